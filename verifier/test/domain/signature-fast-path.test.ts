import { expect } from 'chai';
import { createLocalJWKSet, errors, jwtVerify } from 'jose';
import { API_KEY_TYP, checkApiKey, DEFAULT_ISSUER, DEFAULT_KEY_AUDIENCE } from '@akm/common';
import { REFUSED_TOKEN_CASES, signRaw, validClaims } from '../support/refused-token-cases.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';

type Outcome = { ok: boolean; reason?: string; claims?: unknown };

describe('signature check: the crypto.verify fast path answers as jose does', () => {
  let signer: TestSigner;
  let other: TestSigner;

  before(async () => {
    [signer, other] = await Promise.all([createSigner(), createSigner()]);
  });

  /**
   * Tokens at and around every edge of jose's checks, each signed validly: times one second
   * either side of the tolerance, claims of the wrong type, `aud` as a list, `typ` spelled the
   * way jose also accepts, headers the fast path leaves to jose.
   */
  async function edgeTokens(n: number): Promise<[string, string][]> {
    const base = validClaims(n);
    const signed = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => signRaw(signer, claims, header);
    return [
      ['valid', await signed(base)],
      ['exp one second inside the tolerance', await signed({ ...base, exp: n - 4 })],
      ['exp at the tolerance', await signed({ ...base, exp: n - 5 })],
      ['nbf at the tolerance', await signed({ ...base, nbf: n + 5 })],
      ['nbf one second past the tolerance', await signed({ ...base, nbf: n + 6 })],
      ['iat in the future', await signed({ ...base, iat: n + 3600 })],
      ['iat as a string', await signed({ ...base, iat: String(n) })],
      ['exp as a string', await signed({ ...base, exp: String(n + 3600) })],
      ['nbf as a string', await signed({ ...base, nbf: String(n) })],
      ['aud as a list holding it', await signed({ ...base, aud: ['other', DEFAULT_KEY_AUDIENCE] })],
      ['aud as a list without it', await signed({ ...base, aud: ['other'] })],
      ['iss as a list', await signed({ ...base, iss: [DEFAULT_ISSUER] })],
      ['sub as a number', await signed({ ...base, sub: 7 })],
      ['typ with application/', await signed(base, { typ: `application/${API_KEY_TYP}` })],
      ['typ in capitals', await signed(base, { typ: API_KEY_TYP.toUpperCase() })],
      ['a crit header', await signed(base, { crit: ['exp'] }).catch(() => 'x.y.z')],
      ['kid as a number', await signed(base, { kid: 7 })],
      ['no kid', await signRaw({ ...signer, kid: undefined as unknown as string }, base)],
      ['signed by another key', await signRaw(other, base)],
      ['signed by another key under the same kid', await signRaw({ ...other, kid: signer.kid }, base)],
    ];
  }

  /** jose's own verdict, mapped the way the check maps it. */
  async function joseOutcome(token: string, now: Date): Promise<Outcome> {
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(signer.jwks), {
        algorithms: ['EdDSA'], typ: API_KEY_TYP, issuer: DEFAULT_ISSUER, audience: DEFAULT_KEY_AUDIENCE,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'], currentDate: now, clockTolerance: 5,
      });
      return { ok: true, claims: payload };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') return { ok: false, reason: 'not_yet_valid' };
      return { ok: false, reason: 'invalid' };
    }
  }

  it('gives every hostile and edge token the verdict jose gives it, and accepts only what jose accepts', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const now = new Date(nowS * 1000 + 999);
    const tokens: [string, string][] = [
      ...(await edgeTokens(nowS)),
      ...(await Promise.all(REFUSED_TOKEN_CASES.map(async (c) => [c.name, await c.token(signer, other, nowS)] as [string, string]))),
    ];
    const getKey = createLocalJWKSet(signer.jwks);
    let accepted = 0;

    for (const [name, token] of tokens) {
      const fast = await checkApiKey(token, getKey, { issuer: DEFAULT_ISSUER, audience: DEFAULT_KEY_AUDIENCE, currentDate: now, clockToleranceSeconds: 5 });
      const reference = await joseOutcome(token, now);
      const refusedByShape = fast.ok === false && /wrong shape|canonical|longer than/.test(fast.detail);
      if (reference.ok && refusedByShape) continue; // jose accepts; the claims schema or the canonical check refuses (both paths do)
      expect({ ok: fast.ok, reason: fast.ok ? undefined : fast.reason }, name).to.deep.equal({ ok: reference.ok, reason: reference.reason });
      if (fast.ok) {
        accepted++;
        expect(fast.claims, name).to.deep.include({ jti: (reference.claims as { jti: string }).jti });
      }
    }
    expect(accepted, 'the valid and in-tolerance tokens are accepted').to.be.at.least(4);
  });

  it('when a key verifies, returns the claims and kid jose returns', async () => {
    const key = await signKey(signer, { rateLimit: 42 });
    const result = await checkApiKey(key.token, createLocalJWKSet(signer.jwks), { issuer: DEFAULT_ISSUER, audience: DEFAULT_KEY_AUDIENCE });
    expect(result.ok && result.kid).to.equal(signer.kid);
    expect(result.ok && result.claims).to.include({ jti: key.keyId, sub: key.sub, rate_limit: 42, role: 'user' });
  });
});
