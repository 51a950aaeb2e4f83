import { expect } from 'chai';
import request from 'supertest';
import { mintSessionToken } from '../../src/index.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

/** Every admin-only endpoint, with a body that would otherwise be valid. */
const ADMIN_ENDPOINTS: Array<[method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object]> = [
  ['post', '/admin/keys', { sub: 'x' }],
  ['get', '/admin/keys'],
  ['get', '/admin/keys/some-id'],
  ['patch', '/admin/keys/some-id', { rateLimit: 5 }],
  ['delete', '/admin/keys/some-id'],
  ['post', '/admin/signing-keys/rotate'],
  ['post', '/admin/users', { username: 'x', password: 'long enough password' }],
  ['get', '/admin/users'],
  ['get', '/admin/users/x'],
  ['patch', '/admin/users/x', { role: 'admin' }],
  ['delete', '/admin/users/x'],
];

describe('issuer: authentication of every admin endpoint', () => {
  let issuer: TestIssuer;
  const tokens: Record<string, string> = {};
  before(async () => {
    issuer = await startTestIssuer();
    const mint = (sub: string, role: 'admin' | 'user', now: number) =>
      mintSessionToken({ signing: issuer.signing, issuer: 'akm', sub, role, ttlSeconds: 900, now });
    tokens.expired = (await mint('admin', 'admin', Date.now() - 3600_000)).token;
    const admin = `Bearer ${issuer.admin}`;
    const login = async (username: string) =>
      (await request(issuer.url).post('/auth/login').send({ username, password: 'long enough password' })).body.token as string;
    for (const username of ['someone', 'gone', 'off']) {
      await request(issuer.url).post('/admin/users').set('Authorization', admin).send({ username, password: 'long enough password' });
    }
    tokens.user = await login('someone');
    tokens.deleted = await login('gone');
    tokens.disabled = await login('off');
    await request(issuer.url).delete('/admin/users/gone').set('Authorization', admin);
    await request(issuer.url).patch('/admin/users/off').set('Authorization', admin).send({ status: 'disabled' });
    tokens.forged = (await mint('nobody', 'admin', Date.now())).token;
    const key = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'k' });
    tokens.apiKey = key.body.key;
    const [h, p, s] = issuer.admin.split('.');
    tokens.tampered = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', role: 'admin' })).toString('base64url')}.${s}`;
    void p;
  });
  after(async () => {
    await issuer.destroy();
  });

  const cases: Array<[what: string, header: () => string | undefined, status: number, code: string]> = [
    ['no token', () => undefined, 401, 'missing_credentials'],
    ['a Basic credential', () => 'Basic YWRtaW46YWRtaW4=', 400, 'malformed_credentials'],
    ['a bearer with spaces in the token', () => 'Bearer a b c', 400, 'malformed_credentials'],
    ['garbage', () => 'Bearer not-a-jwt', 401, 'invalid_token'],
    ['an expired sign-in token', () => `Bearer ${tokens.expired}`, 401, 'token_expired'],
    ['a tampered sign-in token', () => `Bearer ${tokens.tampered}`, 401, 'invalid_token'],
    ['an API key (wrong token type)', () => `Bearer ${tokens.apiKey}`, 401, 'invalid_token'],
    ['a user sign-in token (wrong role)', () => `Bearer ${tokens.user}`, 403, 'forbidden'],
    ['the sign-in token of a deleted user', () => `Bearer ${tokens.deleted}`, 401, 'invalid_token'],
    ['the sign-in token of a disabled user', () => `Bearer ${tokens.disabled}`, 401, 'invalid_token'],
    ['an admin token for a user that does not exist', () => `Bearer ${tokens.forged}`, 401, 'invalid_token'],
  ];

  for (const [method, path, body] of ADMIN_ENDPOINTS) {
    for (const [what, header, status, code] of cases) {
      it(`${method.toUpperCase()} ${path} with ${what} answers ${status} ${code}`, async () => {
        let req = request(issuer.url)[method](path);
        const value = header();
        if (value !== undefined) req = req.set('Authorization', value);
        const res = body ? await req.send(body) : await req;
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.code, JSON.stringify(res.body)).to.equal(code);
        if (status === 401 && code !== 'malformed_credentials') expect(res.headers['www-authenticate']).to.match(/^Bearer/);
      });
    }
  }
});
