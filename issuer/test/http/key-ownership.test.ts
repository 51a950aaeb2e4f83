import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';

describe('issuer: keys belong to a user id, not to a name', () => {
  const issuer = useTestIssuer();
  const admin = () => `Bearer ${issuer().admin}`;
  const addUser = (username: string) =>
    request(issuer().url).post('/admin/users').set('Authorization', admin()).send({ username, password: PASSWORD });
  const issue = async (sub: string) => (await request(issuer().url).post('/admin/keys').set('Authorization', admin()).send({ sub })).body;
  const signIn = async (username: string) =>
    `Bearer ${(await request(issuer().url).post('/auth/login').send({ username, password: PASSWORD })).body.token}`;

  it('a new user named like a deleted one sees none of the old user\'s keys and cannot disable them', async () => {
    const former = (await addUser('ivan')).body;
    const old = await issue('ivan');
    expect(old.ownerId, show(old)).to.equal(former.id);
    await request(issuer().url).delete('/admin/users/ivan').set('Authorization', admin());
    const current = (await addUser('ivan')).body;
    expect(current.id, 'a new id for the same name').to.not.equal(former.id);
    const mine = await issue('ivan');
    const token = await signIn('ivan');

    const listed = await request(issuer().url).get('/me/keys').set('Authorization', token);
    expect(listed.status, show(listed)).to.equal(200);
    expect(listed.body.items.map((k: { id: string }) => k.id)).to.deep.equal([mine.id]);
    const disable = await request(issuer().url).post(`/me/keys/${old.id}/disable`).set('Authorization', token);
    expect(disable.status, show(disable)).to.equal(404);
    expect(disable.body.code).to.equal('not_found');
  });

  it('another user\'s key and an unknown id get the same 404, so key ids cannot be probed', async () => {
    await addUser('judy');
    await addUser('karl');
    const theirs = await issue('karl');
    const token = await signIn('judy');
    const other = await request(issuer().url).post(`/me/keys/${theirs.id}/disable`).set('Authorization', token);
    const unknown = await request(issuer().url).post('/me/keys/00000000-0000-4000-8000-000000000000/disable').set('Authorization', token);
    expect([other.status, other.body.code], show(other)).to.deep.equal([404, 'not_found']);
    expect([unknown.status, unknown.body.code], show(unknown)).to.deep.equal([404, 'not_found']);
    const key = await request(issuer().url).get(`/admin/keys/${theirs.id}`).set('Authorization', admin());
    expect(key.body.status, 'untouched').to.equal('active');
  });

  it('a key issued to a name before any user had it belongs to no user, and events still carry its sub', async () => {
    const service = await issue('lena');
    expect(service.ownerId).to.equal(null);
    await addUser('lena');
    const listed = await request(issuer().url).get('/me/keys').set('Authorization', await signIn('lena'));
    expect(listed.body.items, show(listed)).to.deep.equal([]);
    const events: Array<{ sub: string; keyId: string }> = [];
    // What the verifiers will have: every committed change, once the relay has published it.
    expect(await issuer().relay.flush(5000), 'the outbox drains').to.equal(true);
    await issuer().memoryBus!.createFeed().start((e) => events.push(e));
    expect(events.find((e) => e.keyId === service.id)?.sub).to.equal('lena');
  });

  it('deleting a user revokes the keys of that user id only, not those of a namesake created after', async () => {
    await addUser('mike');
    const first = await issue('mike');
    await request(issuer().url).delete('/admin/users/mike').set('Authorization', admin());
    await addUser('mike');
    const second = await issue('mike');
    await request(issuer().url).patch('/admin/users/mike').set('Authorization', admin()).send({ status: 'disabled' });
    const statusOf = async (id: string) => (await request(issuer().url).get(`/admin/keys/${id}`).set('Authorization', admin())).body.status;
    expect(await statusOf(first.id)).to.equal('revoked');
    expect(await statusOf(second.id)).to.equal('disabled');
  });
});
