import { expect } from 'chai';
import request from 'supertest';
import { useTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';
const POLICY = { maxKeys: 2, maxRateLimit: 100, maxTtlSeconds: 86_400, scopes: ['prices:read', 'orders:read'] };

describe('issuer: self-service within a key policy', () => {
  const issuer = useTestIssuer();
  const admin = () => `Bearer ${issuer().admin}`;
  const api = () => request(issuer().url);
  async function userWith(username: string, keyPolicy?: object | null): Promise<string> {
    await api().post('/admin/users').set('Authorization', admin()).send({ username, password: PASSWORD });
    if (keyPolicy !== undefined) {
      const set = await api().patch(`/admin/users/${username}`).set('Authorization', admin()).send({ keyPolicy });
      expect(set.status, show(set)).to.equal(200);
      expect(set.body.keyPolicy).to.deep.equal(keyPolicy);
    }
    return `Bearer ${(await api().post('/auth/login').send({ username, password: PASSWORD })).body.token}`;
  }
  const createOwn = (token: string, body: object) => api().post('/me/keys').set('Authorization', token).send(body);

  it('without a key policy (the default) a user cannot create a key: 403 policy_exceeded', async () => {
    const token = await userWith('nora');
    const res = await createOwn(token, {});
    expect(res.status, show(res)).to.equal(403);
    expect(res.body.code).to.equal('policy_exceeded');
    expect((await api().get('/admin/users/nora').set('Authorization', admin())).body.keyPolicy).to.equal(null);
  });

  it('within the policy a user creates their own key (defaults from the policy), revokes it with DELETE /me/keys/:id', async () => {
    const token = await userWith('otto', POLICY);
    const res = await createOwn(token, { name: 'laptop' });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body).to.include({ sub: 'otto', role: 'user', name: 'laptop', rateLimit: 60 });
    expect(res.body.scopes).to.deep.equal(['prices:read', 'orders:read']);
    expect(res.body.key).to.be.a('string');
    expect(res.headers.location).to.equal(`/me/keys/${res.body.id}`);
    expect(Date.parse(res.body.expiresAt) - Date.now()).to.be.closeTo(86_400_000, 5000);

    const revoked = await api().delete(`/me/keys/${res.body.id}`).set('Authorization', token);
    expect(revoked.status, show(revoked)).to.equal(204);
    const after = await api().get(`/me/keys/${res.body.id}`).set('Authorization', token);
    expect(after.body.status).to.equal('revoked');
  });

  const outside: Array<[string, object, string]> = [
    ['a rate limit over maxRateLimit', { rateLimit: 101 }, 'maxRateLimit'],
    ['a burst limit allowing more per minute', { limits: [{ name: 'burst', limit: 2, windowSeconds: 1 }] }, 'maxRateLimit'],
    ['a lifetime over maxTtlSeconds', { ttl: 86_401 }, 'maxTtlSeconds'],
    ['a scope not in the policy', { scopes: ['orders:write'] }, 'scopes'],
  ];
  for (const [what, body, bound] of outside) {
    it(`refuses ${what} with 403 policy_exceeded naming ${bound}`, async () => {
      const token = await userWith(`u${Math.floor(Math.random() * 1e9)}`, POLICY);
      const res = await createOwn(token, body);
      expect(res.status, show(res)).to.equal(403);
      expect(res.body.code).to.equal('policy_exceeded');
      expect(res.body.detail).to.contain(bound);
    });
  }

  it('refuses a key past maxKeys, counting live keys only (a revoked one frees its place); an admin removes the policy with null', async () => {
    const token = await userWith('pia', POLICY);
    const first = await createOwn(token, {});
    expect((await createOwn(token, { rateLimit: 100 })).status).to.equal(201);
    const third = await createOwn(token, {});
    expect(third.status, show(third)).to.equal(403);
    expect(third.body.detail).to.contain('maxKeys');
    await api().delete(`/me/keys/${first.body.id}`).set('Authorization', token);
    expect((await createOwn(token, {})).status).to.equal(201);

    await api().patch('/admin/users/pia').set('Authorization', admin()).send({ keyPolicy: null });
    expect((await createOwn(token, {})).body.code).to.equal('policy_exceeded');
  });

  it('holds maxKeys under concurrent creations (through every replica, when there are several): exactly maxKeys of a burst are made', async () => {
    const token = await userWith('sven', POLICY);
    const burst = await Promise.all(Array.from({ length: 12 }, () => createOwn(token, {})));
    expect(burst.map((r) => r.status).sort(), burst.map(show).join('\n')).to.deep.equal([201, 201, ...Array(10).fill(403)]);
    const mine = await api().get('/me/keys').set('Authorization', token);
    expect(mine.body.items.filter((k: { status: string }) => k.status === 'active')).to.have.length(POLICY.maxKeys);
  });

  it('a roll may go one key over maxKeys, for the key it replaces, and no further: rolling the new key waits until the old one has ended', async () => {
    const token = await userWith('tove', { ...POLICY, maxKeys: 1 });
    const first = await createOwn(token, {});
    const roll = (id: string, graceSeconds: number) => api().post(`/me/keys/${id}/roll`).set('Authorization', token).send({ graceSeconds });
    const second = await roll(first.body.id, 3600);
    expect(second.status, show(second)).to.equal(201);
    // The old key works for its grace: a roll of the new one would make three live keys of one.
    const third = await roll(second.body.id, 3600);
    expect(third.status, show(third)).to.equal(403);
    expect(third.body.code).to.equal('policy_exceeded');
    expect(third.body.detail).to.contain('maxKeys').and.contain(first.body.id);
    expect((await api().delete(`/me/keys/${first.body.id}`).set('Authorization', token)).status).to.equal(204);
    const again = await roll(second.body.id, 0);
    expect(again.status, show(again)).to.equal(201);
    const live = (await api().get('/me/keys').set('Authorization', token)).body.items.filter((k: { status: string }) => k.status === 'active');
    expect(live.map((k: { id: string }) => k.id)).to.deep.equal([again.body.id]);
  });

  it('a user deleted while their own key is being made gets none: the key is checked against the user held where it is stored', async () => {
    await userWith('ulla', POLICY);
    // What the route read before the user was deleted (by another request, on another replica).
    const me = await issuer().users.getUser('ulla');
    expect((await api().delete('/admin/users/ulla').set('Authorization', admin())).status).to.equal(204);
    const late = await issuer().service.issueOwnKey(me!, {});
    expect(late.ok ? 'a key' : late.failure).to.deep.equal({ code: 'policy_exceeded', message: 'user ulla no longer exists' });
    const keys = await api().get('/admin/keys?sub=ulla').set('Authorization', admin());
    expect(keys.body.items).to.deep.equal([]);
  });

  it('refuses a bad policy with 400 naming the field, and another user\'s key on DELETE /me/keys/:id with 404', async () => {
    await api().post('/admin/users').set('Authorization', admin()).send({ username: 'quin', password: PASSWORD });
    const bad = await api().patch('/admin/users/quin').set('Authorization', admin()).send({ keyPolicy: { ...POLICY, maxKeys: 0 } });
    expect(bad.status, show(bad)).to.equal(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).to.include('keyPolicy.maxKeys');
    const theirs = await api().post('/admin/keys').set('Authorization', admin()).send({ sub: 'quin' });
    const token = await userWith('rita', POLICY);
    const other = await api().delete(`/me/keys/${theirs.body.id}`).set('Authorization', token);
    expect(other.status, show(other)).to.equal(404);
  });
});
