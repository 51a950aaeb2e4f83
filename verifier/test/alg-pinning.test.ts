import { expect } from 'chai';
import { SignJWT } from 'jose';
import { API_KEY_TYP, DEFAULT_ISSUER, DEFAULT_KEY_AUDIENCE } from '@akm/common';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

/**
 * `alg` is pinned to EdDSA by the verifier itself, not left to the JWKS: a JWKS entry without
 * `alg` (RFC 7517 makes it optional, and other issuers omit it) must not let a token choose
 * another algorithm the key type allows, such as `Ed25519` (RFC 9864's name for the same curve).
 */
describe('verifier: alg pinned to EdDSA, also against a JWKS entry without alg', () => {
  const t = useTestVerifier({ scope: 'all', instances: 0 });
  before(async () => {
    const { alg: _alg, ...withoutAlg } = t.signer.publicJwk;
    await t.start({ signer: { ...t.signer, jwks: { keys: [withoutAlg] } } });
  });

  const signWith = (alg: string) => {
    const nowS = Math.floor(Date.now() / 1000);
    return new SignJWT({ role: 'admin', rate_limit: 100 })
      .setProtectedHeader({ alg, kid: t.signer.kid, typ: API_KEY_TYP })
      .setIssuer(DEFAULT_ISSUER)
      .setAudience(DEFAULT_KEY_AUDIENCE)
      .setSubject('mallory')
      .setJti(`key_alg_${alg}_${nowS}`)
      .setIssuedAt(nowS)
      .setNotBefore(nowS)
      .setExpirationTime(nowS + 600)
      .sign(t.signer.privateKey);
  };

  it('when a key validly signed by the right key names alg Ed25519, answers 401 invalid_key', async () => {
    const res = await t.verifier.get('/price?symbol=BTC', await signWith('Ed25519'));

    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('invalid_key');
  });

  it('the same key signed with alg EdDSA is served (so the refusal above is the alg, not the key set)', async () => {
    const res = await t.verifier.get('/price?symbol=BTC', await signWith('EdDSA'));

    expect(res.status, shown(res)).to.equal(200);
  });
});
