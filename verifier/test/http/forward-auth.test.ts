import { expect } from 'chai';
import request from 'supertest';
import { keyEvent, publishNewKey } from '../support/key-events.js';
import { neverReplayedFeed } from '../support/never-replayed-feed.js';
import { REFUSED_TOKEN_CASES } from '../support/refused-token-cases.js';
import { createSigner, signKey, type KeySpec, type TestSigner } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

/** Every refusal a gateway can get from /auth, with its status and code. */
describe('verifier: forward auth (/auth)', () => {
  const t = useTestVerifier();
  let other: TestSigner;

  before(async () => {
    other = await createSigner();
  });

  const auth = (token?: string, query = '', method: 'get' | 'post' | 'put' | 'patch' | 'delete' = 'get') => {
    const req = request(t.verifier.url)[method](`/auth${query}`);
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  const known = (spec: KeySpec = {}) => publishNewKey(t.bus, t.signer, spec);

  it('when a valid key is presented with any method, answers 200 with X-Akm-Key-Id, X-Akm-Sub, X-Akm-Role and the RateLimit fields, counting each request once', async () => {
    const key = await known({ sub: 'carol', rateLimit: 10 });
    const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;
    for (const [i, method] of methods.entries()) {
      const res = await auth(key.token, '', method);
      expect(res.status, `${method}: ${shown(res)}`).to.equal(200);
      expect(res.headers['x-akm-key-id']).to.equal(key.keyId);
      expect(res.headers['x-akm-sub']).to.equal('carol');
      expect(res.headers['x-akm-role']).to.equal('user');
      expect(res.headers['ratelimit-policy']).to.equal('"default";q=10;w=60');
      expect(res.headers.ratelimit, method).to.match(new RegExp(`^"default";r=${10 - i - 1};t=\\d+$`));
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.deep.equal({ keyId: key.keyId, sub: 'carol', role: 'user', scopes: ['prices:read'] });
    }
  });

  it('answers under any path below /auth as well (Envoy ext_authz appends the request path to its prefix)', async () => {
    const key = await known({ sub: 'erin' });
    const res = await request(t.verifier.url).post('/auth/orders/42?x=1').set('Authorization', `Bearer ${key.token}`);
    expect(res.status, shown(res)).to.equal(200);
    expect(res.headers['x-akm-sub']).to.equal('erin');
  });

  it('counts against the same limit as protect(): /auth and /price share one window, and the next request after it is used up is refused on both', async () => {
    const key = await known({ rateLimit: 3 });
    expect((await auth(key.token)).status).to.equal(200);
    expect((await t.verifier.get('/price?symbol=BTC', key.token)).status).to.equal(200);
    expect((await auth(key.token)).status).to.equal(200);
    const overAuth = await auth(key.token);
    const overPrice = await t.verifier.get('/price?symbol=BTC', key.token);
    for (const res of [overAuth, overPrice]) {
      expect(res.status, shown(res)).to.equal(429);
      expect(res.body.code, shown(res)).to.equal('rate_limited');
      expect(Number(res.headers['retry-after']), shown(res)).to.be.within(1, 60);
      expect(res.headers.ratelimit).to.match(/^"default";r=0;t=\d+$/);
      expect(res.headers['x-akm-sub'], 'a refusal names no one').to.equal(undefined);
    }
  });

  it('with roles=admin refuses a user key 403 forbidden (with its RateLimit fields) and lets an admin key through; roles=user,admin lets both', async () => {
    const user = await known({ role: 'user' });
    const admin = await known({ role: 'admin' });
    const refused = await auth(user.token, '?roles=admin');
    expect(refused.status, shown(refused)).to.equal(403);
    expect(refused.body.code).to.equal('forbidden');
    expect(refused.headers['ratelimit-policy']).to.equal('"default";q=100;w=60');
    expect((await auth(admin.token, '?roles=admin')).headers['x-akm-role']).to.equal('admin');
    for (const key of [user, admin]) expect((await auth(key.token, '?roles=user,admin')).status).to.equal(200);
  });

  it('with a roles query that names no role, or an unknown query, answers 400 validation_failed', async () => {
    const key = await known();
    for (const query of ['?roles=root', '?roles=', '?roles=user,,admin', '?role=user', '?roles=user&roles=admin']) {
      const res = await auth(key.token, query);
      expect(res.status, `${query}: ${shown(res)}`).to.equal(400);
      expect(res.body.code, query).to.equal('validation_failed');
    }
  });

  it('without a key answers 401 missing_credentials with WWW-Authenticate; with a non-bearer 400 malformed_credentials', async () => {
    const none = await auth();
    expect(none.status, shown(none)).to.equal(401);
    expect(none.body.code).to.equal('missing_credentials');
    expect(none.headers['www-authenticate']).to.equal('Bearer realm="akm"');
    const basic = await request(t.verifier.url).get('/auth').set('Authorization', 'Basic YTpi');
    expect(basic.status, shown(basic)).to.equal(400);
    expect(basic.body.code).to.equal('malformed_credentials');
  });

  it('answers 401 key_revoked and key_disabled for keys the stream revoked or disabled, and 401 key_expired for a key whose stored expiry passed', async () => {
    const revoked = await known();
    const disabled = await known();
    const shortened = await known();
    const nowS = Math.floor(Date.now() / 1000);
    await t.bus.publisher.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    await t.bus.publisher.publish(keyEvent(disabled, 'key.disabled', { version: 2 }));
    await t.bus.publisher.publish(keyEvent(shortened, 'key.updated', { version: 2, expiresAt: nowS - 1 }));
    for (const [key, code] of [[revoked, 'key_revoked'], [disabled, 'key_disabled'], [shortened, 'key_expired']] as const) {
      const res = await auth(key.token);
      expect(res.status, shown(res)).to.equal(401);
      expect(res.body.code, shown(res)).to.equal(code);
      expect(res.type).to.equal('application/problem+json');
      expect(res.headers['www-authenticate']).to.match(/error="invalid_token"/);
    }
  });

  for (const c of REFUSED_TOKEN_CASES) {
    it(`when a key ${c.name} is presented, answers ${c.status} ${c.code} with its detail in plain words`, async () => {
      const res = await auth(await c.token(t.signer, other, Math.floor(Date.now() / 1000)));
      expect(res.status, shown(res)).to.equal(c.status);
      expect(res.body.code, shown(res)).to.equal(c.code);
      expect(res.body.detail, shown(res)).to.match(/^[a-z][a-z0-9 ,'"-]+$/i).and.not.match(/ERR_|JWS|JWT|JOSE/);
    });
  }

  it('before the key stream is replayed, answers 503 unavailable', async () => {
    const unready = await t.start({ feed: neverReplayedFeed(), waitReady: false });
    const res = await unready.get('/auth', (await signKey(t.signer)).token);
    expect(res.status, shown(res)).to.equal(503);
    expect(res.body.code).to.equal('unavailable');
  });
});
