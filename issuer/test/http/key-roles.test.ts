import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => `${res.status} ${JSON.stringify(res.body)}`;
const PASSWORD = 'a long enough password';

describe('issuer: a key is never more than its owner (admin keys)', () => {
  const started = useTestIssuer();
  const admin = () => `Bearer ${started().admin}`;
  const addUser = (username: string, role: 'admin' | 'user') =>
    request(started().url).post('/admin/users').set('Authorization', admin()).send({ username, password: PASSWORD, role });
  const issue = (sub: string, role: 'admin' | 'user') =>
    request(started().url).post('/admin/keys').set('Authorization', admin()).send({ sub, role, ttl: 3600 });
  const latestEvents = async () => {
    const events: Record<string, string> = {};
    // What the verifiers will have: every committed change, once the relay has published it.
    expect(await started().relay.flush(5000), 'the outbox drains').to.equal(true);
    await started().memoryBus!.createFeed().start((e) => void (events[e.keyId] = e.type));
    return events;
  };

  it('issues an admin key only to an active admin user: 400 validation_failed naming role otherwise', async () => {
    await addUser('ursula', 'user');
    await addUser('ada', 'admin');

    for (const sub of ['ursula', 'nobody']) {
      const refused = await issue(sub, 'admin');
      expect(refused.status, show(refused)).to.equal(400);
      expect(refused.body.code).to.equal('validation_failed');
      expect(refused.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(['role']);
    }
    expect((await issue('ada', 'admin')).status).to.equal(201);
    expect((await issue('ursula', 'user')).status, 'user keys for anyone, as before').to.equal(201);
  });

  it('demoting an admin disables their admin keys, with key.disabled for the verifiers, and leaves their user keys alone', async () => {
    await addUser('dana', 'admin');
    const adminKey = (await issue('dana', 'admin')).body;
    const userKey = (await issue('dana', 'user')).body;

    const demoted = await request(started().url).patch('/admin/users/dana').set('Authorization', admin()).send({ role: 'user' });

    expect(demoted.status, show(demoted)).to.equal(200);
    const keyOf = async (id: string) => (await request(started().url).get(`/admin/keys/${id}`).set('Authorization', admin())).body;
    expect((await keyOf(adminKey.id)).status).to.equal('disabled');
    expect((await keyOf(userKey.id)).status).to.equal('active');
    expect(await latestEvents()).to.include({ [adminKey.id]: 'key.disabled', [userKey.id]: 'key.created' });
  });

  it('a demoted admin\'s admin key cannot be enabled again (409) until the owner is an admin again', async () => {
    await addUser('dana', 'admin');
    const adminKey = (await issue('dana', 'admin')).body;
    await request(started().url).patch('/admin/users/dana').set('Authorization', admin()).send({ role: 'user' });
    const enable = () => request(started().url).patch(`/admin/keys/${adminKey.id}`).set('Authorization', admin()).send({ status: 'active' });

    const refused = await enable();

    expect(refused.status, show(refused)).to.equal(409);
    expect(refused.body.code).to.equal('conflict');
    await request(started().url).patch('/admin/users/dana').set('Authorization', admin()).send({ role: 'admin' });
    expect((await enable()).status).to.equal(200);
  });

  it('an admin key whose owner is no longer an admin (left by an older version) acts as a user in the issuer: it cannot unblock another\'s pool token', async () => {
    const i = started();
    await addUser('dana', 'admin');
    await addUser('bob', 'user');
    const adminKey = (await issue('dana', 'admin')).body.key as string;
    // What a database of an older version may hold: dana demoted, her admin key still active.
    await i.db.run("UPDATE users SET role = 'user' WHERE username = 'dana'");
    await request(i.url).post('/pool/tokens').set('Authorization', admin()).send({ count: 1 });
    const bob = (await request(i.url).post('/auth/login').send({ username: 'bob', password: PASSWORD })).body.token as string;
    const held = await request(i.url).post('/pool/assign').set('Authorization', `Bearer ${bob}`);
    expect(held.status, show(held)).to.equal(200);

    const unblock = await request(i.url).post(`/pool/tokens/${held.body.token}/unblock`).set('Authorization', `Bearer ${adminKey}`);

    expect(unblock.status, show(unblock)).to.equal(403);
    expect(unblock.body.code).to.equal('forbidden');
    await i.db.run("UPDATE users SET role = 'admin' WHERE username = 'dana'");
    const asAdmin = await request(i.url).post(`/pool/tokens/${held.body.token}/unblock`).set('Authorization', `Bearer ${adminKey}`);
    expect(asAdmin.status, `while dana is an admin, her admin key is one: ${show(asAdmin)}`).to.equal(200);
  });
});
