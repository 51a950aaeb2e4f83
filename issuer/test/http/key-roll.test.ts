import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { API_KEY_TYP } from '@akm/common';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';

describe('issuer: rolling a key with a grace period', () => {
  let clock: number;
  let issuer: TestIssuer | undefined;
  beforeEach(async () => {
    clock = Date.now();
    issuer = await startTestIssuer({ now: () => clock });
  });
  afterEach(async () => {
    await issuer?.destroy();
    issuer = undefined;
  });

  const api = () => request(issuer!.url);
  const admin = () => `Bearer ${issuer!.admin}`;
  const create = async (body: object) => {
    const res = await api().post('/admin/keys').set('Authorization', admin()).send(body);
    expect(res.status, show(res)).to.equal(201);
    return res.body;
  };
  const roll = (id: string, body: object) => api().post(`/admin/keys/${id}/roll`).set('Authorization', admin()).send(body);

  it('answers 201 with a new key of the same owner, role, limits, scopes, name and meta; the old one ends after its grace, by one event', async () => {
    const limits = [{ name: 'burst', limit: 5, windowSeconds: 1 }, { name: 'day', limit: 900, windowSeconds: 86_400 }];
    const old = await create({ sub: 'svc-a', ttl: 86_400, name: 'ci', meta: { team: 'a' }, limits, scopes: ['orders:read'] });

    const res = await roll(old.id, { graceSeconds: 3600 });

    expect(res.status, show(res)).to.equal(201);
    expect(res.body.id).to.not.equal(old.id);
    expect(res.headers.location).to.equal(`/admin/keys/${res.body.id}`);
    expect(res.body).to.include({ sub: 'svc-a', role: 'user', name: 'ci', rolledFrom: old.id, status: 'active', rolledTo: null });
    expect(res.body.meta).to.deep.equal({ team: 'a' });
    expect(res.body.limits).to.deep.equal(limits);
    expect(res.body.scopes).to.deep.equal(['orders:read']);
    expect(Date.parse(res.body.expiresAt) - clock, 'the lifetime the old key was issued with').to.be.closeTo(86_400_000, 2000);
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP, currentDate: new Date(clock) });
    expect(payload).to.include({ jti: res.body.id, sub: 'svc-a', scope: 'orders:read' });

    const before = await api().get(`/admin/keys/${old.id}`).set('Authorization', admin());
    expect(before.body).to.include({ status: 'active', rolledTo: res.body.id });
    const revokeAt = Date.parse(before.body.revokeAt);
    expect(revokeAt - clock).to.be.closeTo(3_600_000, 1000);

    const [event] = (await issuer!.service.keyEvents(old.id, 1)).items;
    expect(event).to.include({ type: 'key.rolled', status: 'active', rolledTo: res.body.id, revokeAt: revokeAt / 1000 });
    const [created] = (await issuer!.service.keyEvents(res.body.id, 1)).items;
    expect(created).to.include({ type: 'key.created', rolledFrom: old.id });

    // The old key works at the issuer through its grace (here: it disables itself), and is revoked after, with nothing stored then.
    const during = await api().post('/key/disable').set('Authorization', `Bearer ${old.key}`);
    expect(during.status, show(during)).to.equal(200);
    clock = revokeAt + 1;
    const fresh = `Bearer ${await issuer!.adminToken()}`;
    const after = await api().get(`/admin/keys/${old.id}`).set('Authorization', fresh);
    expect(after.body.status, show(after)).to.equal('revoked');
    const used = await api().post('/key/disable').set('Authorization', `Bearer ${old.key}`);
    expect(used.status, show(used)).to.equal(401);
    expect(used.body.code).to.equal('key_revoked');
    const revokedList = await api().get('/admin/keys?status=revoked&sub=svc-a').set('Authorization', fresh);
    expect(revokedList.body.items.map((k: { id: string }) => k.id)).to.deep.equal([old.id]);
    const types = (await issuer!.service.keyEvents(old.id, 10)).items.map((e) => e.type);
    expect(types, 'no event at the end of the grace (newest first)').to.deep.equal(['key.disabled', 'key.rolled', 'key.created']);
  });

  it('graceSeconds 0 revokes the old key at once; the grace never runs past the old key\'s expiry', async () => {
    const now = await create({ sub: 'svc-b' });
    const res = await roll(now.id, { graceSeconds: 0 });
    expect(res.status, show(res)).to.equal(201);
    const old = await api().get(`/admin/keys/${now.id}`).set('Authorization', admin());
    expect(old.body.status).to.equal('revoked');
    expect((await issuer!.service.keyEvents(now.id, 1)).items[0]?.type).to.equal('key.revoked');

    const short = await create({ sub: 'svc-b', ttl: 120 });
    await roll(short.id, { graceSeconds: 3600 });
    const bounded = await api().get(`/admin/keys/${short.id}`).set('Authorization', admin());
    expect(bounded.body.revokeAt, show(bounded)).to.equal(short.expiresAt);
  });

  it('the new key of a roll spends the same credits as the old one (one grant): a roll gives no new credits', async () => {
    const old = await create({ sub: 'svc-d', credits: { remaining: 100 } });
    const res = await roll(old.id, { graceSeconds: 60 });
    const oldGrant = (await issuer!.service.keyEvents(old.id, 1)).items[0]?.credits;
    const newGrant = (await issuer!.service.keyEvents(res.body.id, 1)).items[0]?.credits;
    expect(newGrant).to.deep.equal(oldGrant);
  });

  it('refuses a bad grace with 400, an unknown key with 404, and a revoked, disabled, expired or already rolled key with 409', async () => {
    const key = await create({ sub: 'svc-c', ttl: 60 });
    for (const [body, field] of [
      [{ graceSeconds: -1 }, 'graceSeconds'],
      [{ graceSeconds: 1.5 }, 'graceSeconds'],
      [{ graceSeconds: 7 * 86_400 + 1 }, 'graceSeconds'],
      [{}, 'graceSeconds'],
      [{ graceSeconds: 10, ttl: 5 }, 'ttl'],
    ] as const) {
      const res = await roll(key.id, body);
      expect(res.status, show(res)).to.equal(400);
      expect(res.body.code, show(res)).to.equal('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field), show(res)).to.include(field);
    }
    const unknown = await roll('no-such-key', { graceSeconds: 10 });
    expect(unknown.status, show(unknown)).to.equal(404);

    expect((await roll(key.id, { graceSeconds: 10 })).status).to.equal(201);
    const twice = await roll(key.id, { graceSeconds: 10 });
    expect(twice.status, show(twice)).to.equal(409);
    expect(twice.body.code).to.equal('conflict');

    const revoked = await create({ sub: 'svc-c' });
    await api().delete(`/admin/keys/${revoked.id}`).set('Authorization', admin());
    expect((await roll(revoked.id, { graceSeconds: 10 })).status).to.equal(409);

    const disabled = await create({ sub: 'svc-c' });
    await api().patch(`/admin/keys/${disabled.id}`).set('Authorization', admin()).send({ status: 'disabled' });
    const rolledDisabled = await roll(disabled.id, { graceSeconds: 10 });
    expect(rolledDisabled.status, show(rolledDisabled)).to.equal(409);
    expect(rolledDisabled.body.detail).to.equal(`key ${disabled.id} is disabled: enable it to roll it`);

    const expiring = await create({ sub: 'svc-c', ttl: 30 });
    clock += 31_000;
    const expired = await roll(expiring.id, { graceSeconds: 10 });
    expect(expired.status, show(expired)).to.equal(409);
  });

  it('a user rolls their own key under /me/keys within a key policy, no longer-lived than it allows; anyone else\'s key is 404', async () => {
    for (const username of ['lena', 'mark']) {
      await api().post('/admin/users').set('Authorization', admin()).send({ username, password: PASSWORD });
    }
    const lenas = await create({ sub: 'lena', ttl: 86_400 });
    const marks = await create({ sub: 'mark' });
    const token = `Bearer ${(await api().post('/auth/login').send({ username: 'lena', password: PASSWORD })).body.token}`;

    // A roll issues a key: without a key policy it is refused, like creating one.
    const without = await api().post(`/me/keys/${lenas.id}/roll`).set('Authorization', token).send({ graceSeconds: 600 });
    expect(without.status, show(without)).to.equal(403);
    expect(without.body.code).to.equal('policy_exceeded');
    const keyPolicy = { maxKeys: 5, maxRateLimit: 100, maxTtlSeconds: 3600, scopes: ['prices:read'] };
    const set = await api().patch('/admin/users/lena').set('Authorization', admin()).send({ keyPolicy });
    expect(set.status, show(set)).to.equal(200);

    const res = await api().post(`/me/keys/${lenas.id}/roll`).set('Authorization', token).send({ graceSeconds: 600 });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body).to.include({ sub: 'lena', ownerId: lenas.ownerId, rolledFrom: lenas.id });
    // The admin issued it for a day; rolled by lena, it lives no longer than her policy allows.
    expect(Date.parse(res.body.expiresAt) - clock).to.be.closeTo(3_600_000, 2000);
    expect(res.body.key).to.be.a('string');
    expect(res.headers.location).to.equal(`/me/keys/${res.body.id}`);

    const other = await api().post(`/me/keys/${marks.id}/roll`).set('Authorization', token).send({ graceSeconds: 600 });
    expect(other.status, show(other)).to.equal(404);
    expect(other.body.code).to.equal('not_found');
  });
});
