import { expect } from 'chai';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import request from 'supertest';
import { SESSION_AUDIENCE, SESSION_TYP } from '@akm/common';
import { startTestIssuer, TEST_ADMIN_PASSWORD, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';

describe('issuer: sign-in, users and roles', () => {
  let issuer: TestIssuer;
  beforeEach(async () => {
    issuer = await startTestIssuer({ loginGuard: { perUserAddress: 3, perAddress: 1000, windowSeconds: 60 } });
  });
  afterEach(async () => issuer?.destroy());
  const admin = () => `Bearer ${issuer.admin}`;
  const login = (username: string, password: string) => request(issuer.url).post('/auth/login').send({ username, password });
  const addUser = (username: string, role = 'user') =>
    request(issuer.url).post('/admin/users').set('Authorization', admin()).send({ username, password: PASSWORD, role });

  it('signs in the bootstrap admin with AKM_ADMIN_PASSWORD and answers a session token, not an API key', async () => {
    const res = await login('admin', TEST_ADMIN_PASSWORD);
    expect(res.status, show(res)).to.equal(200);
    expect(res.body).to.include({ tokenType: 'Bearer', username: 'admin', role: 'admin' });
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(decodeProtectedHeader(res.body.token).typ).to.equal(SESSION_TYP);
    expect(decodeJwt(res.body.token).aud).to.equal(SESSION_AUDIENCE);
    const created = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${res.body.token}`).send({ sub: 'z' });
    expect(created.status, show(created)).to.equal(201);
  });

  it('answers a wrong name and a wrong password with the same 401 invalid_credentials, in about the same time', async () => {
    await addUser('bob');
    const time = async (u: string) => {
      const t = process.hrtime.bigint();
      const res = await login(u, 'wrong password!!');
      return { res, ms: Number(process.hrtime.bigint() - t) / 1e6 };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    const names = [];
    const passwords = [];
    for (let i = 0; i < 3; i++) {
      names.push(await time(`nobody${i}`));
      passwords.push(await time('bob'));
    }
    for (const { res } of [...names, ...passwords]) {
      expect(res.status, show(res)).to.equal(401);
      expect(res.body.code).to.equal('invalid_credentials');
      expect(res.body.detail).to.equal('wrong user name or password');
    }
    const wrongName = { ms: median(names.map((n) => n.ms)) };
    const wrongPassword = { ms: median(passwords.map((n) => n.ms)) };
    // Both paths run one scrypt derivation; an unknown name must not answer in a fraction of the time.
    expect(wrongName.ms / wrongPassword.ms).to.be.within(0.4, 2.5);
  });

  it('refuses repeated failures for a user name with 429 too_many_attempts and Retry-After, even with the right password', async () => {
    await addUser('carol');
    for (let i = 0; i < 3; i++) expect((await login('carol', 'nope nope nope')).status).to.equal(401);
    const blocked = await login('carol', PASSWORD);
    expect(blocked.status, show(blocked)).to.equal(429);
    expect(blocked.body.code).to.equal('too_many_attempts');
    expect(Number(blocked.headers['retry-after'])).to.be.within(1, 60);
    expect((await login('admin', TEST_ADMIN_PASSWORD)).status, 'other users are not blocked').to.equal(200);
  });

  it('lets admins create, list, get, change and delete users; never shows a password hash', async () => {
    const created = await addUser('dave');
    expect(created.status, show(created)).to.equal(201);
    expect(created.body).to.include({ username: 'dave', role: 'user', status: 'active' });
    expect(JSON.stringify(created.body)).to.not.match(/scrypt|password/);
    expect((await addUser('dave')).status).to.equal(409);
    const list = await request(issuer.url).get('/admin/users').set('Authorization', admin());
    expect(list.body.items.map((u: { username: string }) => u.username)).to.deep.equal(['admin', 'dave']);
    const promoted = await request(issuer.url).patch('/admin/users/dave').set('Authorization', admin()).send({ role: 'admin' });
    expect(promoted.body.role).to.equal('admin');
    const newPassword = 'another long password';
    await request(issuer.url).patch('/admin/users/dave').set('Authorization', admin()).send({ password: newPassword });
    expect((await login('dave', PASSWORD)).status).to.equal(401);
    expect((await login('dave', newPassword)).status).to.equal(200);
    expect((await request(issuer.url).delete('/admin/users/dave').set('Authorization', admin())).status).to.equal(204);
    expect((await request(issuer.url).get('/admin/users/dave').set('Authorization', admin())).status).to.equal(404);
  });

  it('answers 404 not_found for an unknown user on get, patch (each change) and delete', async () => {
    for (const res of [
      await request(issuer.url).get('/admin/users/nobody').set('Authorization', admin()),
      await request(issuer.url).patch('/admin/users/nobody').set('Authorization', admin()).send({ role: 'admin' }),
      await request(issuer.url).patch('/admin/users/nobody').set('Authorization', admin()).send({ status: 'disabled' }),
      await request(issuer.url).patch('/admin/users/nobody').set('Authorization', admin()).send({ password: 'a brand new password' }),
      await request(issuer.url).delete('/admin/users/nobody').set('Authorization', admin()),
    ]) {
      expect(res.status, show(res)).to.equal(404);
      expect(res.body.code, show(res)).to.equal('not_found');
    }
    const list = await request(issuer.url).get('/admin/users').set('Authorization', admin());
    expect(list.body.items.map((u: { username: string }) => u.username), 'nothing was created on the way').to.deep.equal(['admin']);
  });

  it('lists users by name in pages of `limit`, continuing at the `cursor` the previous page answered as `nextCursor`, like every list', async () => {
    const names = ['u-a', 'u-b', 'u-c', 'u-d', 'u-e'];
    for (const name of [...names].reverse()) expect((await addUser(name)).status).to.equal(201);
    const page = (query: Record<string, string>) => request(issuer.url).get('/admin/users').query(query).set('Authorization', admin());
    const seen: string[] = [];
    let query: Record<string, string> = { limit: '2' };
    for (let i = 0; i < 10; i++) {
      const res = await page(query);
      expect(res.status, show(res)).to.equal(200);
      expect(Object.keys(res.body).sort(), 'the paging shape of /admin/keys and /me/keys').to.deep.equal(['items', 'nextCursor']);
      const items = res.body.items.map((u: { username: string }) => u.username) as string[];
      expect(items.length).to.be.at.most(2);
      seen.push(...items);
      if (res.body.nextCursor === null) break;
      expect(res.body.nextCursor).to.be.a('string');
      query = { limit: '2', cursor: res.body.nextCursor };
    }
    expect(seen).to.deep.equal(['admin', ...names]);
    const last = await page({ limit: '6' });
    expect(last.body.items).to.have.length(6);
    expect(last.body.nextCursor, 'no next page when everything fit').to.equal(null);
  });

  it('refuses a bad list query with 400 validation_failed naming the parameter, never a 500', async () => {
    for (const [query, field] of [
      ['cursor=Not%20A%20Cursor!', 'cursor'],
      [`cursor=${Buffer.from('Not A Name!').toString('base64url')}`, 'cursor'],
      ['cursor=YQ&cursor=Yg', 'cursor'],
      ['cursor=', 'cursor'],
      ['after=u-a', 'after'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=abc', 'cursor'],
    ] as const) {
      const res = await request(issuer.url).get(`/admin/users?${query}`).set('Authorization', admin());
      expect(res.status, `${query}: ${show(res)}`).to.equal(400);
      expect(res.body.code, `${query}: ${show(res)}`).to.equal('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field), `${query}: ${show(res)}`).to.include(field);
    }
  });

  it('refuses bad user input with 400 naming the field', async () => {
    for (const [body, field] of [
      [{ username: 'Bad Name', password: PASSWORD }, 'username'],
      [{ username: 'ok', password: 'short' }, 'password'],
      [{ username: 'ok', password: PASSWORD, role: 'root' }, 'role'],
      [{ username: 'ok', password: PASSWORD, extra: 1 }, 'extra'],
    ] as const) {
      const res = await request(issuer.url).post('/admin/users').set('Authorization', admin()).send(body);
      expect(res.status, show(res)).to.equal(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).to.include(field);
    }
  });

  it('keeps the last active admin: it cannot be demoted, disabled or deleted', async () => {
    for (const res of [
      await request(issuer.url).patch('/admin/users/admin').set('Authorization', admin()).send({ role: 'user' }),
      await request(issuer.url).patch('/admin/users/admin').set('Authorization', admin()).send({ status: 'disabled' }),
      await request(issuer.url).delete('/admin/users/admin').set('Authorization', admin()),
    ]) {
      expect(res.status, show(res)).to.equal(409);
      expect(res.body.code).to.equal('conflict');
    }
  });

  it('keeps an active admin when the last two are demoted, disabled or deleted at once (through every replica, when there are several)', async () => {
    // The test's token is no user's (`akm admin-token`): it outlives every admin changed here.
    let last = 'admin';
    for (const [i, change] of [{ role: 'user' }, { status: 'disabled' }, 'delete'].entries()) {
      const pair = [`boss${i}a`, `boss${i}b`];
      for (const name of pair) expect((await addUser(name, 'admin')).status).to.equal(201);
      const down = await request(issuer.url).patch(`/admin/users/${last}`).set('Authorization', admin()).send({ role: 'user' });
      expect(down.status, show(down)).to.equal(200);
      const both = await Promise.all(
        pair.map((name) =>
          change === 'delete'
            ? request(issuer.url).delete(`/admin/users/${name}`).set('Authorization', admin())
            : request(issuer.url).patch(`/admin/users/${name}`).set('Authorization', admin()).send(change),
        ),
      );
      const done = change === 'delete' ? 204 : 200;
      expect(both.map((r) => r.status).sort(), `${JSON.stringify(change)}: ${both.map(show).join(' ')}`).to.deep.equal([done, 409].sort());
      last = both[0]!.status === 409 ? pair[0]! : pair[1]!;
      const kept = await request(issuer.url).get(`/admin/users/${last}`).set('Authorization', admin());
      expect(kept.body).to.include({ role: 'admin', status: 'active' });
    }
  });

  it('loses no change to a user when several arrive at once: each field keeps what was set', async () => {
    const policy = { maxKeys: 3, maxRateLimit: 100, maxTtlSeconds: 3600, scopes: [] };
    for (let i = 0; i < 5; i++) {
      expect((await addUser(`busy${i}`)).status).to.equal(201);
      const changes = [{ keyPolicy: policy }, { role: 'admin' }, { password: 'the new password of busy' }];
      const answers = await Promise.all(changes.map((change) => request(issuer.url).patch(`/admin/users/busy${i}`).set('Authorization', admin()).send(change)));
      for (const res of answers) expect(res.status, show(res)).to.equal(200);
      const user = await request(issuer.url).get(`/admin/users/busy${i}`).set('Authorization', admin());
      expect(user.body, `round ${i}`).to.include({ role: 'admin' });
      expect(user.body.keyPolicy, `round ${i}`).to.deep.equal(policy);
      expect((await login(`busy${i}`, 'the new password of busy')).status, `round ${i}`).to.equal(200);
    }
  });

  it('disabling a user disables their keys and deleting one revokes them, with events for the verifiers', async () => {
    await addUser('erin');
    const key = async () => (await request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'erin' })).body;
    const [k1, k2] = [await key(), await key()];
    await request(issuer.url).patch('/admin/users/erin').set('Authorization', admin()).send({ status: 'disabled' });
    const after = await request(issuer.url).get('/admin/keys?sub=erin').set('Authorization', admin());
    expect(after.body.items.map((k: { status: string }) => k.status)).to.deep.equal(['disabled', 'disabled']);
    await request(issuer.url).delete('/admin/users/erin').set('Authorization', admin());
    const events: string[] = [];
    // What the verifiers will have: every committed change, once the relay has published it.
    expect(await issuer.relay.flush(5000), 'the outbox drains').to.equal(true);
    await issuer.memoryBus!.createFeed().start((e) => events.push(`${e.keyId}:${e.type}:${e.version}`));
    expect(events).to.have.members([`${k1.id}:key.revoked:3`, `${k2.id}:key.revoked:3`]);
  });

  it('a key issued while its owner is disabled or deleted ends with the owner: none stays live (through every replica, when there are several)', async () => {
    for (const [i, change] of ['disable', 'delete', 'disable', 'delete'].entries()) {
      const name = `racer${i}`;
      const { id: ownerId } = (await addUser(name)).body;
      const issue = () => request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: name });
      const end = () =>
        change === 'delete'
          ? request(issuer.url).delete(`/admin/users/${name}`).set('Authorization', admin())
          : request(issuer.url).patch(`/admin/users/${name}`).set('Authorization', admin()).send({ status: 'disabled' });
      const answers = await Promise.all([...Array.from({ length: 8 }, issue), end(), ...Array.from({ length: 8 }, issue)]);
      // A key asked for once the user is disabled is refused; once deleted, the name is no user's.
      for (const res of answers) {
        if (res.status === 409) expect(res.body.detail, show(res)).to.equal(`user ${name} is disabled: a key is never more than its owner`);
        else expect(res.status, show(res)).to.be.oneOf([200, 201, 204]);
      }
      const keys = (await request(issuer.url).get(`/admin/keys?sub=${name}&limit=100`).set('Authorization', admin())).body.items as Array<{ id: string; ownerId: string | null; status: string }>;
      const live = keys.filter((k) => k.ownerId === ownerId && k.status === 'active');
      expect(live, `${change}: keys of the ended owner still active`).to.deep.equal([]);
    }
  });

  it('a key enabled while its owner is disabled or demoted stays no more than its owner (through every replica, when there are several)', async () => {
    const patchKey = (id: string, body: object) => request(issuer.url).patch(`/admin/keys/${id}`).set('Authorization', admin()).send(body);
    for (let i = 0; i < 6; i++) {
      const [name, role, change] = i % 2 ? [`demoted${i}`, 'admin', { role: 'user' }] : [`stopped${i}`, 'user', { status: 'disabled' }];
      expect((await addUser(name, role)).status).to.equal(201);
      const key = (await request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: name, role })).body;
      expect((await patchKey(key.id, { status: 'disabled' })).status).to.equal(200);
      const [user, enabled] = await Promise.all([
        request(issuer.url).patch(`/admin/users/${name}`).set('Authorization', admin()).send(change),
        patchKey(key.id, { status: 'active' }),
      ]);
      expect(user.status, show(user)).to.equal(200);
      expect(enabled.status, show(enabled)).to.be.oneOf([200, 409]);
      const after = await request(issuer.url).get(`/admin/keys/${key.id}`).set('Authorization', admin());
      expect(after.body.status, `${name}: ${show(enabled)}`).to.equal('disabled');
    }
    // Without a race too: a disabled user's key is enabled once the user is.
    const stopped = (await request(issuer.url).get('/admin/keys?sub=stopped0').set('Authorization', admin())).body.items[0];
    const refused = await patchKey(stopped.id, { status: 'active' });
    expect(refused.status, show(refused)).to.equal(409);
    expect(refused.body.detail).to.equal(`key ${stopped.id} cannot be enabled: its user stopped0 is disabled (enable the user first)`);
    await request(issuer.url).patch('/admin/users/stopped0').set('Authorization', admin()).send({ status: 'active' });
    expect((await patchKey(stopped.id, { status: 'active' })).status).to.equal(200);
  });

  it('gives a user their own profile and keys, lets them disable their own key, and nothing else', async () => {
    await addUser('frank');
    await addUser('grace');
    const mine = (await request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'frank' })).body;
    const theirs = (await request(issuer.url).post('/admin/keys').set('Authorization', admin()).send({ sub: 'grace' })).body;
    const token = `Bearer ${(await login('frank', PASSWORD)).body.token}`;

    expect((await request(issuer.url).get('/me').set('Authorization', token)).body).to.include({ username: 'frank', role: 'user' });
    const keys = await request(issuer.url).get('/me/keys').set('Authorization', token);
    expect(keys.body.items.map((k: { id: string }) => k.id)).to.deep.equal([mine.id]);
    expect(keys.body.items[0]).to.not.have.property('key');
    const disabled = await request(issuer.url).post(`/me/keys/${mine.id}/disable`).set('Authorization', token);
    expect(disabled.status, show(disabled)).to.equal(200);
    expect(disabled.body.status).to.equal('disabled');

    const other = await request(issuer.url).post(`/me/keys/${theirs.id}/disable`).set('Authorization', token);
    expect(other.status, show(other)).to.equal(404);
    expect(other.body.code).to.equal('not_found');
    const create = await request(issuer.url).post('/admin/keys').set('Authorization', token).send({ sub: 'frank' });
    expect(create.status).to.equal(403);
    const list = await request(issuer.url).get(`/admin/keys?sub=grace`).set('Authorization', token);
    expect(list.status).to.equal(403);
    const asKey = await request(issuer.url).get('/me').set('Authorization', `Bearer ${mine.key}`);
    expect(asKey.status, 'an API key is never a sign-in').to.equal(401);
    expect(asKey.body.code).to.equal('invalid_token');
  });

  it('never writes a password to the logs', async () => {
    await addUser('heidi');
    await login('heidi', PASSWORD);
    await login('heidi', 'a wrong password');
    for (const line of issuer.logs) {
      expect(line).to.not.include(PASSWORD);
      expect(line).to.not.include('a wrong password');
      expect(line).to.not.include(TEST_ADMIN_PASSWORD);
    }
  });
});
