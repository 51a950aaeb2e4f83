import { expect } from 'chai';
import request from 'supertest';
import { nonCanonicalSignature } from '../../../verifier/test/support/refused-token-cases.js';
import { mintSessionToken } from '../../src/domain/session-tokens.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

type Endpoint = [method: 'get' | 'post' | 'patch' | 'delete', path: string, body?: object];
type Case = [what: string, header: () => string | undefined, status: number, code: string];

/** Every admin-only endpoint, with a body that would otherwise be valid. */
const ADMIN_ENDPOINTS: Endpoint[] = [
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
  ['post', '/admin/users/x/unlock'],
  ['post', '/pool/tokens', { count: 1 }],
  ['delete', '/pool/tokens/some-token'],
];

/** Endpoints of a signed-in user (any role), never an API key. */
const SESSION_ENDPOINTS: Endpoint[] = [
  ['get', '/me'],
  ['get', '/me/keys'],
  ['post', '/me/keys/some-id/disable'],
  ['post', '/me/password', { currentPassword: 'long enough password', newPassword: 'another long password' }],
  ['post', '/auth/logout'],
];

/** Endpoints of an API key on itself, never a sign-in. */
const API_KEY_ENDPOINTS: Endpoint[] = [['post', '/key/disable']];

/** Pool endpoints open to any valid sign-in or active API key. */
const CALLER_ENDPOINTS: Endpoint[] = [
  ['post', '/pool/assign'],
  ['post', '/pool/tokens/some-token/unblock'],
  ['post', '/pool/tokens/some-token/keep-alive'],
  ['get', '/pool/tokens/some-token'],
  ['get', '/pool/stats'],
];

describe('issuer: authentication of every protected endpoint', () => {
  let issuer: TestIssuer;
  let clock = Date.now();
  const tokens: Record<string, string> = {};
  const tamper = (jwt: string, claims: object) => {
    const [h, , s] = jwt.split('.');
    return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  };
  before(async () => {
    issuer = await startTestIssuer({ now: () => clock });
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
    const issueKey = async (auth = admin) => {
      const res = await request(issuer.url).post('/admin/keys').set('Authorization', auth).send({ sub: 'k', ttl: 600 });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body as { id: string; key: string };
    };
    tokens.apiKey = (await issueKey()).key;
    tokens.tampered = tamper(issuer.admin, { sub: 'admin', role: 'admin' });
    tokens.tamperedKey = tamper(tokens.apiKey, { sub: 'k', role: 'admin', jti: 'x', aud: 'akm-api', iss: 'akm' });
    const revoked = await issueKey();
    await request(issuer.url).delete(`/admin/keys/${revoked.id}`).set('Authorization', admin);
    tokens.revokedKey = revoked.key;
    const disabled = await issueKey();
    await request(issuer.url).patch(`/admin/keys/${disabled.id}`).set('Authorization', admin).send({ status: 'disabled' });
    tokens.disabledKey = disabled.key;
    // A key issued two hours ago for ten minutes: past its expiry now.
    const present = clock;
    clock = present - 7200_000;
    tokens.expiredKey = (await issueKey(`Bearer ${await issuer.adminToken()}`)).key;
    clock = present;
  });
  after(async () => issuer?.destroy());

  const MALFORMED: Case[] = [
    ['no token', () => undefined, 401, 'missing_credentials'],
    ['a Basic credential', () => 'Basic YWRtaW46YWRtaW4=', 400, 'malformed_credentials'],
    ['a bearer with spaces in the token', () => 'Bearer a b c', 400, 'malformed_credentials'],
  ];
  const BAD_SESSIONS: Case[] = [
    ['an expired sign-in token', () => `Bearer ${tokens.expired}`, 401, 'token_expired'],
    ['a tampered sign-in token', () => `Bearer ${tokens.tampered}`, 401, 'invalid_token'],
    ['the sign-in token of a deleted user', () => `Bearer ${tokens.deleted}`, 401, 'invalid_token'],
    ['the sign-in token of a disabled user', () => `Bearer ${tokens.disabled}`, 401, 'invalid_token'],
    ['an admin token for a user that does not exist', () => `Bearer ${tokens.forged}`, 401, 'invalid_token'],
    // The same signature bytes written another way: one token must have one spelling.
    ['a valid sign-in token with its signature padded', () => `Bearer ${nonCanonicalSignature(issuer.admin, 'padded')}`, 401, 'invalid_token'],
    ['a valid sign-in token with unused signature bits set', () => `Bearer ${nonCanonicalSignature(issuer.admin, 'low bits')}`, 401, 'invalid_token'],
  ];
  const BAD_KEYS: Case[] = [
    ['a tampered API key', () => `Bearer ${tokens.tamperedKey}`, 401, 'invalid_key'],
    ['an expired API key', () => `Bearer ${tokens.expiredKey}`, 401, 'key_expired'],
    ['a revoked API key', () => `Bearer ${tokens.revokedKey}`, 401, 'key_revoked'],
    ['a valid API key with its signature padded', () => `Bearer ${nonCanonicalSignature(tokens.apiKey!, 'padded')}`, 401, 'invalid_key'],
    ['a valid API key with unused signature bits set', () => `Bearer ${nonCanonicalSignature(tokens.apiKey!, 'low bits')}`, 401, 'invalid_key'],
  ];
  const SESSION_CASES: Case[] = [
    ...MALFORMED,
    ['garbage', () => 'Bearer not-a-jwt', 401, 'invalid_token'],
    ...BAD_SESSIONS,
    ['an API key (wrong token type)', () => `Bearer ${tokens.apiKey}`, 401, 'invalid_token'],
  ];
  const ADMIN_CASES: Case[] = [...SESSION_CASES, ['a user sign-in token (wrong role)', () => `Bearer ${tokens.user}`, 403, 'forbidden']];
  const API_KEY_CASES: Case[] = [
    ...MALFORMED,
    ['garbage', () => 'Bearer not-a-jwt', 401, 'invalid_key'],
    ['a user sign-in token (wrong token type)', () => `Bearer ${tokens.user}`, 401, 'invalid_key'],
    ['an admin sign-in token (wrong token type)', () => `Bearer ${issuer.admin}`, 401, 'invalid_key'],
    ...BAD_KEYS,
  ];
  const CALLER_CASES: Case[] = [
    ...MALFORMED,
    ['garbage', () => 'Bearer not-a-jwt', 401, 'invalid_token'],
    ...BAD_SESSIONS,
    ...BAD_KEYS,
    ['a disabled API key', () => `Bearer ${tokens.disabledKey}`, 401, 'key_disabled'],
  ];

  const TABLE: Array<[guard: string, endpoints: Endpoint[], cases: Case[]]> = [
    ['admin', ADMIN_ENDPOINTS, ADMIN_CASES],
    ['sign-in', SESSION_ENDPOINTS, SESSION_CASES],
    ['API key', API_KEY_ENDPOINTS, API_KEY_CASES],
    ['sign-in or API key', CALLER_ENDPOINTS, CALLER_CASES],
  ];

  for (const [guard, endpoints, cases] of TABLE) {
    for (const [method, path, body] of endpoints) {
      for (const [what, header, status, code] of cases) {
        it(`${method.toUpperCase()} ${path} (${guard}) with ${what} answers ${status} ${code}`, async () => {
          let req = request(issuer.url)[method](path);
          const value = header();
          if (value !== undefined) req = req.set('Authorization', value);
          const res = body ? await req.send(body) : await req;
          expect(res.status, JSON.stringify(res.body)).to.equal(status);
          expect(res.body.code, JSON.stringify(res.body)).to.equal(code);
          if (status === 401 && code !== 'malformed_credentials') {
            expect(res.headers['www-authenticate'], `RFC 7235: a 401 names its scheme; ${JSON.stringify(res.body)}`).to.match(/^Bearer/);
          }
        });
      }
    }
  }

  it('each guard lets its own credential through (so the refusals above are the guard, not a broken route)', async () => {
    const through = async (method: Endpoint[0], path: string, token: string, body?: object) => {
      const req = request(issuer.url)[method](path).set('Authorization', `Bearer ${token}`);
      return body ? req.send(body) : req;
    };
    for (const [method, path, token, body] of [
      ['get', '/admin/users', issuer.admin],
      ['post', '/pool/tokens', issuer.admin, { count: 1 }],
      ['get', '/me', tokens.user!],
      ['get', '/me/keys', tokens.user!],
      ['get', '/pool/stats', tokens.user!],
      ['get', '/pool/stats', tokens.apiKey!],
    ] as const) {
      const res = await through(method, path, token, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).to.be.within(200, 299);
    }
  });
});
