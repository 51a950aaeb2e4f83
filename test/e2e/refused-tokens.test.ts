import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import request from 'supertest';
import { REFUSED_TOKEN_CASES, UNKNOWN_TO_STREAM } from '../../verifier/test/support/refused-token-cases.js';
import { createSigner, type TestSigner } from '../../verifier/test/support/signing.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;

/**
 * A signer whose private key the issuer is started with, so that the refused cases that need
 * the issuer's own key (expired, wrong iss, missing claim…) are signed by the real issuer key.
 */
async function issuerSigner(dataDir: string): Promise<{ signer: TestSigner; keyFile: string }> {
  const generated = await createSigner();
  const privateJwk = await exportJWK(generated.privateKey);
  const keyFile = join(dataDir, 'signing-key.jwk');
  writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  // The issuer names its key by its RFC 7638 thumbprint.
  const kid = await calculateJwkThumbprint(privateJwk);
  const publicJwk = { ...generated.publicJwk, kid };
  return { signer: { ...generated, kid, publicJwk, jwks: { keys: [publicJwk] } }, keyFile };
}

describe('e2e: refused keys against the real issuer, a verifier over real NATS and Redis', () => {
  let signer: TestSigner;
  let other: TestSigner;
  const e2e = useWiredVerifiers({
    name: 'verifier-refused',
    redis: true,
    // The issuer signs with the test's key, written to its data directory.
    issuer: async (dataDir) => {
      const issuerKey = await issuerSigner(dataDir);
      signer = issuerKey.signer;
      return { signingKeyFile: issuerKey.keyFile };
    },
  });
  before(async () => {
    other = await createSigner();
  });

  const price = (token: string) => request(e2e.verifier.service.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${token}`);

  it('the issuer signs with the test\'s key: a key it mints is served', async () => {
    const started = e2e.issuer;
    const jwks = await request(started.url).get('/.well-known/jwks.json');
    // The test's key, and the next key the issuer publishes ahead of a rotation.
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid), shown(jwks)).to.include(signer.kid).and.have.length(2);
    const minted = await request(started.url)
      .post('/admin/keys')
      .set('Authorization', `Bearer ${await started.adminToken()}`)
      .send({ sub: 'carol' });
    expect(minted.status, shown(minted)).to.equal(201);

    const res = await price(minted.body.key);

    expect(res.status, shown(res)).to.equal(200);
  });

  for (const c of REFUSED_TOKEN_CASES) {
    it(`when a key ${c.name} is presented, answers ${c.status} ${c.code}`, async () => {
      // The clock is read per test: see UNKNOWN_TO_STREAM.
      const token = await c.token(signer, other, Math.floor(Date.now() / 1000));

      const res = await price(token);

      expect(res.status, shown(res)).to.equal(c.status);
      expect(res.body.code, shown(res)).to.equal(c.code);
      expect(res.type, shown(res)).to.equal('application/problem+json');
      expect(res.body.detail, shown(res)).to.not.equal(UNKNOWN_TO_STREAM);
    });
  }
});
