import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { createMemoryKeyBus, SESSION_AUDIENCE, SESSION_TYP } from '../../common/src/index.js';
import { createSigner, signKey, type TestSigner } from './support/signing.js';
import { shown, startTestVerifier, type TestVerifier } from './support/verifier-fixture.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Case {
  name: string;
  token: (s: TestSigner, other: TestSigner, nowS: number) => Promise<string> | string;
  status: number;
  code: string;
}

const CASES: Case[] = [
  { name: 'signed by another key under the same kid', token: (s, o, n) => signKey({ ...o, kid: s.kid }, {}, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with an unknown kid', token: (_s, o, n) => signKey(o, {}, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  {
    name: 'with alg none',
    token: (s, _o, n) => `${b64url({ alg: 'none', typ: 'akm-key+jwt', kid: s.kid })}.${b64url({ iss: 'akm', aud: 'akm-api', sub: 'eve', jti: 'k1', iat: n, nbf: n, exp: n + 600, role: 'admin', rate_limit: 9999 })}.`,
    status: 401,
    code: 'invalid_key',
  },
  {
    name: 'HS256-signed with the public key as the secret',
    token: (s, _o, n) => {
      const input = `${b64url({ alg: 'HS256', typ: 'akm-key+jwt', kid: s.kid })}.${b64url({ iss: 'akm', aud: 'akm-api', sub: 'eve', jti: 'k2', iat: n, nbf: n, exp: n + 600, role: 'admin', rate_limit: 9999 })}`;
      const secret = Buffer.from(String(s.publicJwk.x), 'base64url');
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    },
    status: 401,
    code: 'invalid_key',
  },
  { name: 'expired', token: (s, _o, n) => signKey(s, { iat: n - 7200, exp: n - 3600 }, n * 1000).then((k) => k.token), status: 401, code: 'key_expired' },
  { name: 'with nbf in the future', token: (s, _o, n) => signKey(s, { nbf: n + 3600 }, n * 1000).then((k) => k.token), status: 401, code: 'key_not_yet_valid' },
  { name: 'with the wrong iss', token: (s, _o, n) => signKey(s, { iss: 'mallory' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with the wrong aud', token: (s, _o, n) => signKey(s, { aud: 'other-api' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with typ JWT', token: (s, _o, n) => signKey(s, { typ: 'JWT' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'that is a sign-in token', token: (s, _o, n) => signKey(s, { typ: SESSION_TYP, aud: SESSION_AUDIENCE, role: 'admin' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  {
    name: 'with a tampered payload',
    token: async (s, _o, n) => {
      const [h, p, sig] = (await signKey(s, { rateLimit: 1 }, n * 1000)).token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      return `${h}.${b64url({ ...claims, rate_limit: 1_000_000, role: 'admin' })}.${sig}`;
    },
    status: 401,
    code: 'invalid_key',
  },
  { name: 'truncated', token: async (s, _o, n) => (await signKey(s, {}, n * 1000)).token.slice(0, -10), status: 401, code: 'invalid_key' },
  { name: 'with characters outside base64url', token: () => 'eyJ+/.ab+c/.de+/', status: 401, code: 'invalid_key' },
  { name: 'that is plain garbage', token: () => 'hello', status: 401, code: 'invalid_key' },
  { name: 'of 8 KB', token: () => 'a'.repeat(8 * 1024), status: 401, code: 'invalid_key' },
];

for (const cacheSize of [10_000, 0]) {
  describe(`verifier: refused tokens (cache ${cacheSize ? 'on' : 'off'})`, () => {
    let signer: TestSigner;
    let other: TestSigner;
    let verifier: TestVerifier;
    const nowS = Math.floor(Date.now() / 1000);

    before(async () => {
      signer = await createSigner();
      other = await createSigner();
      verifier = await startTestVerifier({ signer, feed: createMemoryKeyBus().createFeed(), cacheSize });
    });
    after(async () => verifier.stop());

    for (const c of CASES) {
      it(`when a key ${c.name} is presented, answers ${c.status} ${c.code}`, async () => {
        const token = await c.token(signer, other, nowS);
        const first = await verifier.get('/price?symbol=BTC', token);
        const again = await verifier.get('/price?symbol=BTC', token);
        for (const res of [first, again]) {
          expect(res.status, shown(res)).to.equal(c.status);
          expect(res.body.code, shown(res)).to.equal(c.code);
          expect(res.type, shown(res)).to.equal('application/problem+json');
        }
      });
    }

    it('when no credentials are sent, answers 401 missing_credentials with WWW-Authenticate: Bearer', async () => {
      const res = await verifier.get('/price?symbol=BTC');
      expect(res.status, shown(res)).to.equal(401);
      expect(res.body.code, shown(res)).to.equal('missing_credentials');
      expect(res.headers['www-authenticate']).to.match(/^Bearer/);
    });

    it('when the Authorization header is not a bearer, answers 400 malformed_credentials', async () => {
      const basic = await request(verifier.url).get('/price?symbol=BTC').set('Authorization', 'Basic YTpi');
      const bad = await request(verifier.url).get('/price?symbol=BTC').set('Authorization', 'Bearer a!b');
      for (const res of [basic, bad]) {
        expect(res.status, shown(res)).to.equal(400);
        expect(res.body.code, shown(res)).to.equal('malformed_credentials');
      }
    });

    it('when the Authorization header is larger than Node accepts (20 KB), Node answers 431', async () => {
      const res = await request(verifier.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${'a'.repeat(20 * 1024)}`);
      expect(res.status).to.equal(431);
    });

    it('when a user key calls an admin route, answers 403 forbidden', async () => {
      const key = await signKey(signer, { role: 'user' });
      const res = await verifier.get('/admin/verifier', key.token);
      expect(res.status, shown(res)).to.equal(403);
      expect(res.body.code, shown(res)).to.equal('forbidden');
      const admin = await verifier.get('/admin/verifier', (await signKey(signer, { role: 'admin' })).token);
      expect(admin.status, shown(admin)).to.equal(200);
    });
  });
}
