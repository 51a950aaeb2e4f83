import { expect } from 'chai';
import request from 'supertest';
import { startRedis, waitFor, type TestServer } from '../../../test/support/processes.js';
import { stopEach } from '../../../test/support/teardown.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);

for (const store of ['sqlite', 'redis'] as const) {
  describe(`issuer: token pool wired with real auth (${store})`, () => {
    let redis: TestServer | undefined;
    let issuer: TestIssuer;
    let userSession: string;
    let otherSession: string;
    let userKey: string;
    before(async () => {
      if (store === 'redis') redis = await startRedis();
      issuer = await startTestIssuer({ redisUrl: redis?.url, pool: { maxTokens: 5, maxPerHolder: 2 } });
      const admin = `Bearer ${issuer.admin}`;
      for (const username of ['alice', 'bob']) {
        await request(issuer.url).post('/admin/users').set('Authorization', admin).send({ username, password: 'long enough password' });
      }
      const login = async (username: string) =>
        (await request(issuer.url).post('/auth/login').send({ username, password: 'long enough password' })).body.token as string;
      userSession = await login('alice');
      otherSession = await login('bob');
      userKey = (await request(issuer.url).post('/admin/keys').set('Authorization', admin).send({ sub: 'alice' })).body.key;
    });
    // Stops what `before` started, also when it failed half-way (Redis up, the issuer not).
    after(() => stopEach(() => issuer?.destroy(), () => redis?.destroy()));

    it('lets only admins generate, up to the configured maximum (409 pool_full beyond it)', async () => {
      const asUser = await request(issuer.url).post('/pool/tokens').set('Authorization', `Bearer ${userSession}`).send({ count: 1 });
      expect(asUser.status, show(asUser)).to.equal(403);
      const byKey = await request(issuer.url).post('/pool/tokens').set('Authorization', `Bearer ${userKey}`).send({ count: 1 });
      expect(byKey.status, show(byKey)).to.equal(401);
      const ok = await request(issuer.url).post('/pool/tokens').set('Authorization', `Bearer ${issuer.admin}`).send({ count: 3 });
      expect(ok.status, show(ok)).to.equal(201);
      expect(ok.body.tokens).to.have.length(3);
      const full = await request(issuer.url).post('/pool/tokens').set('Authorization', `Bearer ${issuer.admin}`).send({ count: 3 });
      expect(full.status, show(full)).to.equal(409);
      expect(full.body.code).to.equal('pool_full');
    });

    it('GET /pool/tokens/:token shows a token to its holder and to admins only', async () => {
      const assigned = await request(issuer.url).post('/pool/assign').set('Authorization', `Bearer ${userSession}`);
      expect(assigned.status, show(assigned)).to.equal(200);
      const path = `/pool/tokens/${assigned.body.token}`;
      for (const auth of [userSession, userKey, issuer.admin]) {
        const seen = await request(issuer.url).get(path).set('Authorization', `Bearer ${auth}`);
        expect(seen.status, show(seen)).to.equal(200);
        expect(seen.body).to.deep.equal(assigned.body);
      }
      const other = await request(issuer.url).get(path).set('Authorization', `Bearer ${otherSession}`);
      expect([other.status, other.body.code], show(other)).to.deep.equal([403, 'forbidden']);
      await request(issuer.url).post(`${path}/unblock`).set('Authorization', `Bearer ${userSession}`);
      const available = await request(issuer.url).get(path).set('Authorization', `Bearer ${userSession}`);
      expect([available.status, available.body.code], 'a free token: admins only').to.deep.equal([403, 'forbidden']);
      const byAdmin = await request(issuer.url).get(path).set('Authorization', `Bearer ${issuer.admin}`);
      expect(byAdmin.body).to.include({ state: 'available', assignedTo: null });
      const unknown = await request(issuer.url).get('/pool/tokens/pt_nosuchtoken').set('Authorization', `Bearer ${issuer.admin}`);
      expect([unknown.status, unknown.body.code], show(unknown)).to.deep.equal([404, 'not_found']);
      const anonymous = await request(issuer.url).get(path);
      expect(anonymous.status).to.equal(401);
    });

    it('assigns to a sign-in or an API key, lets only the holder or an admin unblock, refuses anonymous callers', async () => {
      const anonymous = await request(issuer.url).post('/pool/assign');
      expect(anonymous.status).to.equal(401);
      expect(anonymous.body.code).to.equal('missing_credentials');
      const byKey = await request(issuer.url).post('/pool/assign').set('Authorization', `Bearer ${userKey}`);
      expect(byKey.status, show(byKey)).to.equal(200);
      expect(byKey.body.assignedTo).to.equal('alice');
      const other = await request(issuer.url).post(`/pool/tokens/${byKey.body.token}/unblock`).set('Authorization', `Bearer ${otherSession}`);
      expect(other.status, show(other)).to.equal(403);
      const holder = await request(issuer.url).post(`/pool/tokens/${byKey.body.token}/unblock`).set('Authorization', `Bearer ${userSession}`);
      expect(holder.status, show(holder)).to.equal(200);
      expect(holder.body.state).to.equal('available');
      const stats = await request(issuer.url).get('/pool/stats').set('Authorization', `Bearer ${userSession}`);
      expect(stats.body).to.deep.equal({ available: 3, assigned: 0, total: 3 });
    });

    it('caps what one holder may hold (POOL_MAX_PER_HOLDER): its sign-in and its keys count together, the next assignment is 409 holder_limit', async () => {
      const assign = (token: string) => request(issuer.url).post('/pool/assign').set('Authorization', `Bearer ${token}`);
      const first = await assign(userSession);
      const second = await assign(userKey);
      expect([first.status, second.status], show(second)).to.deep.equal([200, 200]);

      const third = await assign(userSession);

      expect(third.status, show(third)).to.equal(409);
      expect(third.body.code, show(third)).to.equal('holder_limit');
      expect(third.type).to.equal('application/problem+json');
      const stats = await request(issuer.url).get('/pool/stats').set('Authorization', `Bearer ${userSession}`);
      expect(stats.body, 'the refused assignment took nothing').to.deep.equal({ available: 1, assigned: 2, total: 3 });
      const bob = await assign(otherSession);
      expect(bob.status, `another holder is not affected: ${show(bob)}`).to.equal(200);
      const back = await request(issuer.url).post(`/pool/tokens/${first.body.token}/unblock`).set('Authorization', `Bearer ${userSession}`);
      expect(back.status, show(back)).to.equal(200);
      expect((await assign(userKey)).status, 'alice may hold two again after giving one back').to.equal(200);
    });
  });
}

describe('issuer: /readyz with the token pool in Redis', () => {
  let redis: TestServer;
  let issuer: TestIssuer;
  before(async () => {
    // Owned: the test stops and restarts it.
    redis = await startRedis({ owned: true });
    issuer = await startTestIssuer({ redisUrl: redis.url });
  });
  after(async () => {
    await issuer?.destroy();
    await redis?.destroy();
  });

  it('reports the pool store unavailable while Redis is down, stays 200 (degraded) because keys and sign-in still work, and recovers', async () => {
    const readyz = () => request(issuer.url).get('/readyz');
    const up = await readyz();
    expect([up.status, up.body.status], show(up)).to.deep.equal([200, 'ready']);
    expect(up.body.dependencies.poolStore, show(up)).to.deep.equal({ kind: 'redis', state: 'ok', required: false });

    await redis.stop();
    const stats = await request(issuer.url).get('/pool/stats').set('Authorization', `Bearer ${issuer.admin}`);
    expect([stats.status, stats.body.code], show(stats)).to.deep.equal([503, 'storage_failed']);
    const down = await readyz();
    expect([down.status, down.body.status], show(down)).to.deep.equal([200, 'degraded']);
    expect(down.body.dependencies.poolStore, show(down)).to.deep.equal({ kind: 'redis', state: 'unavailable', required: false });
    expect(down.body.dependencies.database.state).to.equal('ok');
    const key = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'still-works' });
    expect(key.status, show(key)).to.equal(201);

    await redis.start();
    await waitFor(async () => (await readyz()).body.status === 'ready', 10_000, 50);
  });
});
