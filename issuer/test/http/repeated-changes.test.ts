import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => `${res.status} ${JSON.stringify(res.body)}`;

/**
 * A change asked for twice is made once: the second answer is the same, and no second event goes
 * to the verifiers (each event costs every verifier work, and a second `key.revoked` with a higher
 * version is a change that did not happen).
 */
describe('issuer: repeated changes publish one event', () => {
  const started = useTestIssuer();
  const admin = () => `Bearer ${started().admin}`;
  /** The outbox's events of a key, oldest first: what the verifiers get. */
  const eventsOf = async (keyId: string) =>
    (await started().db.all<{ payload: string }>('SELECT payload FROM outbox WHERE key_id = ? ORDER BY seq', [keyId]))
      .map((row) => {
        const event = JSON.parse(row.payload) as { type: string; version: number };
        return `${event.type} v${event.version}`;
      });
  const issue = async () => {
    const res = await request(started().url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'rhea', ttl: 600 });
    expect(res.status, show(res)).to.equal(201);
    return res.body as { id: string; key: string };
  };

  it('revoking a key twice answers 204 both times and publishes one key.revoked', async () => {
    const { id } = await issue();

    const first = await request(started().url).delete(`/admin/keys/${id}`).set('Authorization', admin());
    const second = await request(started().url).delete(`/admin/keys/${id}`).set('Authorization', admin());

    expect([first.status, second.status], show(second)).to.deep.equal([204, 204]);
    expect(await eventsOf(id)).to.deep.equal(['key.created v1', 'key.revoked v2']);
  });

  it('disabling a key twice (admin, then the key itself) publishes one key.disabled', async () => {
    const { id, key } = await issue();

    const byAdmin = await request(started().url).patch(`/admin/keys/${id}`).set('Authorization', admin()).send({ status: 'disabled' });
    const again = await request(started().url).patch(`/admin/keys/${id}`).set('Authorization', admin()).send({ status: 'disabled' });
    const bySelf = await request(started().url).post('/key/disable').set('Authorization', `Bearer ${key}`);

    expect([byAdmin.status, again.status, bySelf.status], show(bySelf)).to.deep.equal([200, 200, 200]);
    expect(await eventsOf(id)).to.deep.equal(['key.created v1', 'key.disabled v2']);
  });

  it('deleting the owner of a revoked key publishes nothing more for it', async () => {
    await request(started().url).post('/admin/users').set('Authorization', admin()).send({ username: 'rhea', password: 'a long enough password' });
    const { id } = await issue();
    await request(started().url).delete(`/admin/keys/${id}`).set('Authorization', admin());

    const deleted = await request(started().url).delete('/admin/users/rhea').set('Authorization', admin());

    expect(deleted.status, show(deleted)).to.equal(204);
    expect(await eventsOf(id)).to.deep.equal(['key.created v1', 'key.revoked v2']);
  });
});
