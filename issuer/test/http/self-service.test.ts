import { expect } from 'chai';
import request from 'supertest';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

describe('issuer: a user disables their own key (POST /key/disable)', () => {
  let issuer: TestIssuer;
  beforeEach(async () => {
    issuer = await startTestIssuer();
  });
  afterEach(async () => {
    await issuer.destroy();
  });
  const admin = () => `Bearer ${issuer.admin}`;
  const issue = async () =>
    (await request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'alice', ttl: 600 })).body;

  it('when a user presents their own active key, disables it and publishes key.disabled', async () => {
    const key = await issue();
    const res = await request(issuer.url).post('/key/disable').set('Authorization', `Bearer ${key.key}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ id: key.id, status: 'disabled' });
    const events: string[] = [];
    // What the verifiers will have: every committed change, once the relay has published it.
    expect(await issuer.relay.flush(5000), 'the outbox drains').to.equal(true);
    await issuer.memoryBus!.createFeed().start((e) => events.push(`${e.type}:${e.keyId}`));
    expect(events).to.deep.equal([`key.disabled:${key.id}`]);
  });

  it('disabling twice is harmless; a revoked key answers 401 key_revoked', async () => {
    const key = await issue();
    await request(issuer.url).post('/key/disable').set('Authorization', `Bearer ${key.key}`);
    const twice = await request(issuer.url).post('/key/disable').set('Authorization', `Bearer ${key.key}`);
    expect(twice.status).to.equal(200);
    await request(issuer.url).delete(`/admin/keys/${key.id}`).set('Authorization', admin());
    const res = await request(issuer.url).post('/key/disable').set('Authorization', `Bearer ${key.key}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(401);
    expect(res.body.code).to.equal('key_revoked');
  });

  it('refuses a sign-in token, garbage and a missing credential', async () => {
    for (const [header, status, code] of [
      [`Bearer ${issuer.admin}`, 401, 'invalid_key'],
      ['Bearer abc.def.ghi', 401, 'invalid_key'],
      [undefined, 401, 'missing_credentials'],
    ] as const) {
      let req = request(issuer.url).post('/key/disable');
      if (header) req = req.set('Authorization', header);
      const res = await req;
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      expect(res.body.code).to.equal(code);
    }
  });

  it('when an admin shortened a key past now, the key answers 401 key_expired', async () => {
    let clock = Date.now();
    const timed = await startTestIssuer({ now: () => clock });
    try {
      const auth = `Bearer ${timed.admin}`;
      const key = (await request(timed.url).post('/admin/keys').set('Authorization', auth).send({ sub: 'a', ttl: 600 })).body;
      const soon = new Date(clock + 60_000).toISOString();
      const patched = await request(timed.url).patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ expiresAt: soon });
      expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
      clock += 61_000;
      const res = await request(timed.url).post('/key/disable').set('Authorization', `Bearer ${key.key}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(401);
      expect(res.body.code).to.equal('key_expired');
    } finally {
      await timed.destroy();
    }
  });
});
