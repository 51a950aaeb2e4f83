import { expect } from 'chai';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import request from 'supertest';
import { API_KEY_TYP, DEFAULT_KEY_AUDIENCE, SESSION_AUDIENCE, SESSION_TYP } from '@akm/common';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';
const SESSION_TTL_S = 600;

/** The fields of a problem body that do not vary per request. */
const stable = (body: Record<string, unknown>) => {
  const { requestId: _r, instance: _i, ...rest } = body;
  return rest;
};

describe('issuer: sign-in tokens', () => {
  let issuer: TestIssuer;
  let clock: number;
  beforeEach(async () => {
    clock = Date.parse('2030-01-01T00:00:00Z');
    issuer = await startTestIssuer({ sessionTtlSeconds: SESSION_TTL_S, now: () => clock });
  });
  afterEach(async () => {
    await issuer.destroy();
  });

  const admin = async () => `Bearer ${await issuer.adminToken()}`;
  const addUser = async (username: string, role: 'user' | 'admin' = 'user') => {
    const res = await request(issuer.url).post('/admin/users').set('Authorization', await admin()).send({ username, password: PASSWORD, role });
    expect(res.status, show(res)).to.equal(201);
  };
  const login = (username: string, password = PASSWORD) => request(issuer.url).post('/auth/login').send({ username, password });
  const signIn = async (username: string) => {
    const res = await login(username);
    expect(res.status, show(res)).to.equal(200);
    return res.body.token as string;
  };
  const patchUser = async (username: string, change: object) => {
    const res = await request(issuer.url).patch(`/admin/users/${username}`).set('Authorization', await admin()).send(change);
    expect(res.status, show(res)).to.equal(200);
  };
  const me = (token: string) => request(issuer.url).get('/me').set('Authorization', `Bearer ${token}`);
  const jwks = async () => {
    const res = await request(issuer.url).get('/.well-known/jwks.json');
    expect(res.status, show(res)).to.equal(200);
    return createLocalJWKSet(res.body as JSONWebKeySet);
  };

  it('lives exactly AKM_SESSION_TTL_S, and the issuer answers 401 token_expired once it has', async () => {
    await addUser('ivy');
    const res = await login('ivy');
    expect(res.status, show(res)).to.equal(200);
    const claims = decodeJwt(res.body.token);
    expect(claims.iat).to.equal(Math.floor(clock / 1000));
    expect(claims.exp! - claims.iat!).to.equal(SESSION_TTL_S);
    expect(Date.parse(res.body.expiresAt) / 1000).to.equal(claims.exp);

    clock += (SESSION_TTL_S - 1) * 1000;
    const before = await me(res.body.token);
    expect(before.status, show(before)).to.equal(200);
    clock += 7000; // past exp and the 5 s clock tolerance of checkSession
    const after = await me(res.body.token);
    expect(after.status, show(after)).to.equal(401);
    expect(after.body.code, show(after)).to.equal('token_expired');
  });

  it('verifies with jose over GET /.well-known/jwks.json as typ akm-session+jwt, aud akm-issuer, and never as an API key', async () => {
    await addUser('jack');
    const token = await signIn('jack');
    const keys = await jwks();
    const currentDate = new Date(clock);
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      algorithms: ['EdDSA'],
      typ: SESSION_TYP,
      issuer: 'akm',
      audience: SESSION_AUDIENCE,
      currentDate,
    });
    expect(protectedHeader.typ).to.equal('akm-session+jwt');
    expect(payload).to.include({ sub: 'jack', role: 'user', aud: 'akm-issuer' });
    expect(SESSION_TYP).to.not.equal(API_KEY_TYP);
    expect(SESSION_AUDIENCE).to.not.equal(DEFAULT_KEY_AUDIENCE);

    const asApiKey = async (jwt: string, options: { typ: string; audience: string }) => {
      try {
        await jwtVerify(jwt, keys, { algorithms: ['EdDSA'], issuer: 'akm', currentDate, ...options });
        return 'accepted';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    expect(await asApiKey(token, { typ: API_KEY_TYP, audience: DEFAULT_KEY_AUDIENCE }), 'typ tells them apart').to.equal('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect(await asApiKey(token, { typ: SESSION_TYP, audience: DEFAULT_KEY_AUDIENCE }), 'and so does aud').to.equal('ERR_JWT_CLAIM_VALIDATION_FAILED');

    const key = await request(issuer.url).post('/admin/keys').set('Authorization', await admin()).send({ sub: 'jack' });
    expect(key.status, show(key)).to.equal(201);
    expect(await asApiKey(key.body.key, { typ: SESSION_TYP, audience: SESSION_AUDIENCE }), 'an API key is no sign-in').to.equal('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('a disabled user cannot sign in: 401 invalid_credentials with the same body as a wrong password', async () => {
    await addUser('kim');
    await addUser('lee');
    await patchUser('kim', { status: 'disabled' });
    const disabled = await login('kim');
    const wrong = await login('lee', 'not the password at all');
    expect(disabled.status, show(disabled)).to.equal(401);
    expect(disabled.body.code, show(disabled)).to.equal('invalid_credentials');
    expect(wrong.status, show(wrong)).to.equal(401);
    expect(stable(disabled.body), 'nothing tells a disabled account from a wrong password').to.deep.equal(stable(wrong.body));
    expect(disabled.body).to.not.have.property('token');
  });

  it("stops a user's existing sign-in token as soon as the user is disabled", async () => {
    await addUser('max');
    const token = await signIn('max');
    const before = await me(token);
    expect(before.status, show(before)).to.equal(200);
    await patchUser('max', { status: 'disabled' });
    const after = await me(token);
    expect(after.status, show(after)).to.equal(401);
    expect(after.body.code, show(after)).to.equal('invalid_token');
  });

  it("stops a user's existing sign-in token when their role changes, either way (README: changes role)", async () => {
    await addUser('ned');
    await addUser('ola', 'admin');
    const userToken = await signIn('ned');
    const adminToken = await signIn('ola');
    await patchUser('ned', { role: 'admin' });
    await patchUser('ola', { role: 'user' });

    const promoted = await me(userToken);
    expect(promoted.status, show(promoted)).to.equal(401);
    expect(promoted.body.code, show(promoted)).to.equal('invalid_token');
    const demoted = await request(issuer.url).get('/admin/users').set('Authorization', `Bearer ${adminToken}`);
    expect(demoted.status, `a demoted admin's token keeps no admin power: ${show(demoted)}`).to.equal(401);
    expect(demoted.body.code, show(demoted)).to.equal('invalid_token');

    const fresh = await login('ned');
    expect(fresh.status, show(fresh)).to.equal(200);
    expect(fresh.body.role).to.equal('admin');
  });

  // The clock stands still in these tests: every change happens in the same second as the
  // sign-ins it must end, the hardest case for a rule on `iat` (seconds).
  it('re-enabling a user does not bring back sign-ins made before it was disabled; a new sign-in works at once', async () => {
    await addUser('pia');
    const old = await signIn('pia');
    await patchUser('pia', { status: 'disabled' });
    await patchUser('pia', { status: 'active' });

    const stale = await me(old);
    const fresh = await me(await signIn('pia'));

    expect(stale.status, show(stale)).to.equal(401);
    expect(stale.body.code, show(stale)).to.equal('invalid_token');
    expect(fresh.status, show(fresh)).to.equal(200);
  });

  it('a password change ends every earlier sign-in; the new password signs in and its token works at once', async () => {
    await addUser('quin');
    const old = await signIn('quin');
    await patchUser('quin', { password: 'a brand new long password' });

    const stale = await me(old);
    const fresh = await login('quin', 'a brand new long password');

    expect(stale.status, show(stale)).to.equal(401);
    expect(stale.body.code, show(stale)).to.equal('invalid_token');
    expect(fresh.status, show(fresh)).to.equal(200);
    const works = await me(fresh.body.token);
    expect(works.status, show(works)).to.equal(200);
  });

  it('a user deleted and created again under the same name gets none of the old sign-ins', async () => {
    await addUser('rex');
    const old = await signIn('rex');
    const deleted = await request(issuer.url).delete('/admin/users/rex').set('Authorization', await admin());
    expect(deleted.status, show(deleted)).to.equal(204);
    await addUser('rex');

    const stale = await me(old);

    expect(stale.status, show(stale)).to.equal(401);
    expect(stale.body.code, show(stale)).to.equal('invalid_token');
    expect((await me(await signIn('rex'))).status).to.equal(200);
  });
});
