import { expect } from 'chai';
import request from 'supertest';
import { REFUSED_TOKEN_CASES, signRaw, UNKNOWN_TO_STREAM, validClaims } from './support/refused-token-cases.js';
import { createSigner, signKey, type TestSigner } from './support/signing.js';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

for (const cacheSize of [10_000, 0]) {
  describe(`verifier: refused tokens (cache ${cacheSize ? 'on' : 'off'})`, () => {
    const t = useTestVerifier({ scope: 'all', cacheSize });
    let other: TestSigner;
    // Read per test, never at file load: a slow run must not age every key past the new-key
    // grace, which would make the invalid_key cases pass for the wrong reason.
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    before(async () => {
      other = await createSigner();
    });

    for (const c of REFUSED_TOKEN_CASES) {
      it(`when a key ${c.name} is presented, answers ${c.status} ${c.code}`, async () => {
        const token = await c.token(t.signer, other, nowSeconds());
        const first = await t.verifier.get('/price?symbol=BTC', token);
        const again = await t.verifier.get('/price?symbol=BTC', token);
        for (const res of [first, again]) {
          expect(res.status, shown(res)).to.equal(c.status);
          expect(res.body.code, shown(res)).to.equal(c.code);
          expect(res.type, shown(res)).to.equal('application/problem+json');
          // Refused for what the case breaks, not because the key is too old to be taken on its claims.
          expect(res.body.detail, shown(res)).to.not.equal(UNKNOWN_TO_STREAM);
        }
      });
    }

    it('when a key signed like the missing-claim and large-header cases has every claim and a small extra header field, serves it (so those cases fail for what they lack)', async () => {
      const nowS = nowSeconds();
      const complete = await signRaw(t.signer, validClaims(nowS));
      const padded = await signRaw(t.signer, validClaims(nowS), { pad: 'x'.repeat(64) });
      for (const token of [complete, padded]) {
        const res = await t.verifier.get('/price?symbol=BTC', token);
        expect(res.status, shown(res)).to.equal(200);
      }
    });

    it('when no credentials are sent, answers 401 missing_credentials with WWW-Authenticate: Bearer', async () => {
      const res = await t.verifier.get('/price?symbol=BTC');
      expect(res.status, shown(res)).to.equal(401);
      expect(res.body.code, shown(res)).to.equal('missing_credentials');
      expect(res.headers['www-authenticate']).to.match(/^Bearer/);
    });

    it('when the Authorization header is not a bearer, answers 400 malformed_credentials', async () => {
      const basic = await request(t.verifier.url).get('/price?symbol=BTC').set('Authorization', 'Basic YTpi');
      const bad = await request(t.verifier.url).get('/price?symbol=BTC').set('Authorization', 'Bearer a!b');
      for (const res of [basic, bad]) {
        expect(res.status, shown(res)).to.equal(400);
        expect(res.body.code, shown(res)).to.equal('malformed_credentials');
      }
    });

    it('when the Authorization header is larger than Node accepts (20 KB), Node answers 431', async () => {
      const res = await request(t.verifier.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${'a'.repeat(20 * 1024)}`);
      expect(res.status).to.equal(431);
    });

    it('when a user key calls an admin route, answers 403 forbidden', async () => {
      const key = await signKey(t.signer, { role: 'user' });
      const res = await t.verifier.get('/admin/verifier', key.token);
      expect(res.status, shown(res)).to.equal(403);
      expect(res.body.code, shown(res)).to.equal('forbidden');
      const admin = await t.verifier.get('/admin/verifier', (await signKey(t.signer, { role: 'admin' })).token);
      expect(admin.status, shown(admin)).to.equal(200);
    });
  });
}
