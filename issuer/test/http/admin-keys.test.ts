import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { API_KEY_TYP } from '@akm/common';
import { waitFor } from '../../../test/support/processes.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);

describe('issuer: admin key API', () => {
  let issuer: TestIssuer;
  beforeEach(async () => {
    issuer = await startTestIssuer();
  });
  afterEach(async () => issuer?.destroy());

  const api = () => request(issuer.url);
  const create = (body: object) => api().post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send(body);

  it('when an admin creates a key, answers 201 with the key once and its metadata', async () => {
    const res = await create({ sub: 'alice', role: 'user', rateLimit: 100, ttl: 86400, name: 'ci', meta: { team: 'a' } });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body).to.include({ sub: 'alice', role: 'user', rateLimit: 100, status: 'active', name: 'ci' });
    expect(res.body.meta).to.deep.equal({ team: 'a' });
    expect(res.body.id).to.be.a('string');
    expect(res.body.key).to.be.a('string');
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt)).to.be.closeTo(86_400_000, 1500);
    expect(res.headers.location).to.equal(`/admin/keys/${res.body.id}`);

    const again = await api().get(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`);
    expect(again.status, show(again)).to.equal(200);
    expect(again.body).to.not.have.property('key');
  });

  it('issues a key that verifies with jose against the served JWKS, with every required claim', async () => {
    const res = await create({ sub: 'bob', rateLimit: 7, ttl: 600 });
    const jwks = await api().get('/.well-known/jwks.json');
    expect(jwks.status).to.equal(200);
    const { payload, protectedHeader } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), {
      algorithms: ['EdDSA'],
      typ: API_KEY_TYP,
      issuer: 'akm',
      audience: 'akm-api',
    });
    expect(protectedHeader.kid).to.equal(jwks.body.keys[0].kid);
    expect(payload).to.include({ sub: 'bob', jti: res.body.id, role: 'user', rate_limit: 7 });
    expect(payload.exp! - payload.iat!).to.equal(600);
    expect(payload.nbf).to.equal(payload.iat);
    expect(jwks.body.keys[0]).to.not.have.property('d');
  });

  it('signs the scopes given into a space-delimited scope claim, shows them, and carries them in the key.created event', async () => {
    const res = await create({ sub: 'dora', scopes: ['orders:read', 'orders:write'] });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body.scopes).to.deep.equal(['orders:read', 'orders:write']);
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP });
    expect(payload.scope).to.equal('orders:read orders:write');
    const got = await api().get(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`);
    expect(got.body.scopes, show(got)).to.deep.equal(['orders:read', 'orders:write']);
    const [created] = (await issuer.service.keyEvents(res.body.id, 1)).items;
    expect(created?.scopes).to.deep.equal(['orders:read', 'orders:write']);
  });

  it('gives a key created without scopes prices:read (so /price serves it); an empty list means no scope', async () => {
    const res = await create({ sub: 'erin' });
    expect(res.body.scopes, show(res)).to.deep.equal(['prices:read']);
    const none = await create({ sub: 'erin', scopes: [] });
    expect(none.status, show(none)).to.equal(201);
    expect(none.body.scopes).to.deep.equal([]);
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(none.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP });
    expect(payload.scope).to.equal('');
  });

  it('issues a key with several limits: shown, signed as a limits claim, carried by its events; PATCH replaces them (rateLimit: one default limit again)', async () => {
    const limits = [
      { name: 'burst', limit: 10, windowSeconds: 1 },
      { name: 'minute', limit: 600, windowSeconds: 60 },
    ];
    const res = await create({ sub: 'fred', limits });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body.limits).to.deep.equal(limits);
    expect(res.body.rateLimit, "the first limit's count").to.equal(10);
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP });
    expect(payload.limits).to.deep.equal(limits);
    expect((await issuer.service.keyEvents(res.body.id, 1)).items[0]?.limits).to.deep.equal(limits);

    const day = [{ name: 'day', limit: 5000, windowSeconds: 86_400 }];
    const patched = await api().patch(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`).send({ limits: day });
    expect(patched.status, show(patched)).to.equal(200);
    expect(patched.body.limits).to.deep.equal(day);
    expect((await issuer.service.keyEvents(res.body.id, 1)).items[0]?.limits).to.deep.equal(day);

    const back = await api().patch(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`).send({ rateLimit: 42 });
    expect(back.body.limits, show(back)).to.deep.equal([{ name: 'default', limit: 42, windowSeconds: 60 }]);
    const [event] = (await issuer.service.keyEvents(res.body.id, 1)).items;
    expect(event?.rateLimit).to.equal(42);
    expect(event, 'one per-minute limit is carried as rateLimit alone, as before').to.not.have.property('limits');

    const both = await api().patch(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`).send({ rateLimit: 1, limits: day });
    expect(both.status, show(both)).to.equal(400);
    expect(both.body.code).to.equal('validation_failed');
  });

  it('issues a key with credits (granted now, carried by its events and claim); PATCH tops them up as a new grant, or removes them with null', async () => {
    const res = await create({ sub: 'hank', credits: { remaining: 1000, refill: { amount: 1000, interval: 'month' } } });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body.credits).to.deep.include({ granted: 1000, refill: { amount: 1000, interval: 'month' } });
    const [created] = (await issuer.service.keyEvents(res.body.id, 1)).items;
    expect(created?.credits).to.include({ remaining: 1000 });
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP });
    expect((payload.credits as { grant: string }).grant).to.equal(created?.credits?.grant);

    const topped = await api().patch(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`).send({ credits: { remaining: 50 } });
    expect(topped.status, show(topped)).to.equal(200);
    expect(topped.body.credits).to.include({ granted: 50 });
    const [update] = (await issuer.service.keyEvents(res.body.id, 1)).items;
    expect(update?.credits?.remaining).to.equal(50);
    expect(update?.credits?.grant, 'a top-up is a new grant, counted from zero').to.not.equal(created?.credits?.grant);

    const removed = await api().patch(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`).send({ credits: null });
    expect(removed.body.credits, show(removed)).to.equal(null);
    expect((await issuer.service.keyEvents(res.body.id, 1)).items[0]).to.not.have.property('credits');
  });

  it('a key created with neither rateLimit nor limits has one limit named default of 60 per minute, and no limits claim', async () => {
    const res = await create({ sub: 'gina' });
    expect(res.body.limits, show(res)).to.deep.equal([{ name: 'default', limit: 60, windowSeconds: 60 }]);
    const jwks = await api().get('/.well-known/jwks.json');
    const { payload } = await jwtVerify(res.body.key, createLocalJWKSet(jwks.body), { algorithms: ['EdDSA'], typ: API_KEY_TYP });
    expect(payload).to.not.have.property('limits');
    expect(payload.rate_limit).to.equal(60);
  });

  it('defaults role to user, rate limit to 60 and lifetime to 30 days; accepts expiresAt as ISO 8601', async () => {
    const res = await create({ sub: 'carol' });
    expect(res.status, show(res)).to.equal(201);
    expect(res.body).to.include({ role: 'user', rateLimit: 60 });
    const at = new Date(Date.now() + 3600_000).toISOString();
    const withDate = await create({ sub: 'carol', expiresAt: at });
    expect(withDate.status, show(withDate)).to.equal(201);
    expect(Math.abs(Date.parse(withDate.body.expiresAt) - Date.parse(at))).to.be.lessThan(1000);
  });

  const badBodies: Array<[string, object, string]> = [
    ['a rate limit of 0', { sub: 'a', rateLimit: 0 }, 'rateLimit'],
    ['a fractional rate limit', { sub: 'a', rateLimit: 1.5 }, 'rateLimit'],
    ['a rate limit given as a string', { sub: 'a', rateLimit: '100' }, 'rateLimit'],
    ['an expiry in the past', { sub: 'a', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    ['an expiry that is not a date', { sub: 'a', expiresAt: 'tomorrow' }, 'expiresAt'],
    ['a ttl beyond the longest lifetime', { sub: 'a', ttl: 10 * 365 * 86400 }, 'ttl'],
    ['a negative ttl', { sub: 'a', ttl: -5 }, 'ttl'],
    ['both ttl and expiresAt', { sub: 'a', ttl: 60, expiresAt: new Date(Date.now() + 60_000).toISOString() }, 'expiresAt'],
    ['an unknown field', { sub: 'a', rate_limit: 5 }, 'rate_limit'],
    ['no owner', { rateLimit: 5 }, 'sub'],
    ['an owner with spaces', { sub: 'a b' }, 'sub'],
    ['an unknown role', { sub: 'a', role: 'root' }, 'role'],
    ['a scope with a space', { sub: 'a', scopes: ['prices read'] }, 'scopes.0'],
    ['a scope with a comma', { sub: 'a', scopes: ['prices:read', 'a,b'] }, 'scopes.1'],
    ['an empty scope', { sub: 'a', scopes: [''] }, 'scopes.0'],
    ['a scope twice', { sub: 'a', scopes: ['x:y', 'x:y'] }, 'scopes'],
    ['33 scopes', { sub: 'a', scopes: Array.from({ length: 33 }, (_, i) => `s${i}`) }, 'scopes'],
    ['scopes given as a string', { sub: 'a', scopes: 'prices:read' }, 'scopes'],
    ['a limit of 0', { sub: 'a', limits: [{ name: 'burst', limit: 0, windowSeconds: 1 }] }, 'limits.0.limit'],
    ['a window of 0 s', { sub: 'a', limits: [{ name: 'burst', limit: 5, windowSeconds: 0 }] }, 'limits.0.windowSeconds'],
    ['a window over 31 days', { sub: 'a', limits: [{ name: 'long', limit: 5, windowSeconds: 31 * 86400 + 1 }] }, 'limits.0.windowSeconds'],
    ['a window given as a unit', { sub: 'a', limits: [{ name: 'm', limit: 5, window: 'minute' }] }, 'limits.0.window'],
    ['6 limits', { sub: 'a', limits: Array.from({ length: 6 }, (_, i) => ({ name: `l${i}`, limit: 5, windowSeconds: 60 })) }, 'limits'],
    ['no limit in limits', { sub: 'a', limits: [] }, 'limits'],
    ['a limit name twice', { sub: 'a', limits: [{ name: 'x', limit: 1, windowSeconds: 1 }, { name: 'x', limit: 9, windowSeconds: 60 }] }, 'limits'],
    ['a limit name with a space', { sub: 'a', limits: [{ name: 'per minute', limit: 1, windowSeconds: 60 }] }, 'limits.0.name'],
    ['negative credits', { sub: 'a', credits: { remaining: -1 } }, 'credits.remaining'],
    ['a refill of 0', { sub: 'a', credits: { remaining: 5, refill: { amount: 0, interval: 'day' } } }, 'credits.refill.amount'],
    ['a weekly refill', { sub: 'a', credits: { remaining: 5, refill: { amount: 5, interval: 'week' } } }, 'credits.refill.interval'],
    ['both rateLimit and limits', { sub: 'a', rateLimit: 5, limits: [{ name: 'x', limit: 1, windowSeconds: 1 }] }, 'limits'],
  ];
  for (const [what, body, field] of badBodies) {
    it(`when the body has ${what}, answers 400 validation_failed naming ${field}`, async () => {
      const res = await create(body);
      expect(res.status, show(res)).to.equal(400);
      expect(res.body.code, show(res)).to.equal('validation_failed');
      expect(res.headers['content-type']).to.match(/application\/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field), show(res)).to.include(field);
    });
  }

  it('when the body is not JSON, answers 400 malformed_json', async () => {
    const res = await api()
      .post('/admin/keys')
      .set('Authorization', `Bearer ${issuer.admin}`)
      .set('Content-Type', 'application/json')
      .send('{"sub": ');
    expect(res.status, show(res)).to.equal(400);
    expect(res.body.code).to.equal('malformed_json');
  });

  it('when the body is 10 MB, answers 413 payload_too_large', async () => {
    const res = await create({ sub: 'a', name: 'x'.repeat(10 * 1024 * 1024) });
    expect(res.status, show(res)).to.equal(413);
    expect(res.body.code).to.equal('payload_too_large');
  });

  it('lists keys newest first with filters and cursor pagination', async () => {
    for (let i = 0; i < 5; i++) await create({ sub: i % 2 ? 'odd' : 'even', ttl: 600 });
    const auth = `Bearer ${issuer.admin}`;
    const first = await api().get('/admin/keys?limit=2').set('Authorization', auth);
    expect(first.status, show(first)).to.equal(200);
    expect(first.body.items).to.have.length(2);
    const second = await api().get(`/admin/keys?limit=2&cursor=${first.body.nextCursor}`).set('Authorization', auth);
    const third = await api().get(`/admin/keys?limit=2&cursor=${second.body.nextCursor}`).set('Authorization', auth);
    expect(third.body.items).to.have.length(1);
    expect(third.body.nextCursor).to.equal(null);
    const ids = [...first.body.items, ...second.body.items, ...third.body.items].map((k: { id: string }) => k.id);
    expect(new Set(ids).size).to.equal(5);

    const odd = await api().get('/admin/keys?sub=odd').set('Authorization', auth);
    expect(odd.body.items.map((k: { sub: string }) => k.sub)).to.deep.equal(['odd', 'odd']);
    await api().delete(`/admin/keys/${odd.body.items[0].id}`).set('Authorization', auth);
    const revoked = await api().get('/admin/keys?status=revoked').set('Authorization', auth);
    expect(revoked.body.items.map((k: { id: string }) => k.id)).to.deep.equal([odd.body.items[0].id]);
  });

  it('refuses a bad list query: unknown parameter, limit out of range, foreign cursor', async () => {
    const auth = `Bearer ${issuer.admin}`;
    for (const q of ['colour=red', 'limit=0', 'limit=201', 'status=gone', 'cursor=!!', 'cursor=abc']) {
      const res = await api().get(`/admin/keys?${q}`).set('Authorization', auth);
      expect(res.status, `${q}: ${show(res)}`).to.equal(400);
      expect(res.body.code).to.equal('validation_failed');
    }
  });

  it('patches rate limit, expiry and status, and refuses changes to a revoked key with 409', async () => {
    const auth = `Bearer ${issuer.admin}`;
    const { body: key } = await create({ sub: 'dave', rateLimit: 5, ttl: 600 });
    const expiresAt = new Date(Date.now() + 7200_000).toISOString();
    const patched = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ rateLimit: 50, expiresAt });
    expect(patched.status, show(patched)).to.equal(200);
    expect(patched.body.rateLimit).to.equal(50);
    expect(Math.abs(Date.parse(patched.body.expiresAt) - Date.parse(expiresAt))).to.be.lessThan(1000);
    const disabled = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ status: 'disabled' });
    expect(disabled.body.status).to.equal('disabled');
    const empty = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({});
    expect(empty.status, show(empty)).to.equal(400);
    const revoke = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ status: 'revoked' });
    expect(revoke.status, show(revoke)).to.equal(400);
    const del = await api().delete(`/admin/keys/${key.id}`).set('Authorization', auth);
    expect(del.status).to.equal(204);
    const again = await api().delete(`/admin/keys/${key.id}`).set('Authorization', auth);
    expect(again.status).to.equal(204);
    const late = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ status: 'active' });
    expect(late.status, show(late)).to.equal(409);
    expect(late.body.code).to.equal('conflict');
  });

  it('patches a new lifetime as ttl (seconds from now); ttl with expiresAt, or past the longest lifetime, is 400 naming it', async () => {
    const auth = `Bearer ${issuer.admin}`;
    const { body: key } = await create({ sub: 'tina', ttl: 600 });
    const before = Date.now();
    const patched = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send({ ttl: 7200 });
    expect(patched.status, show(patched)).to.equal(200);
    expect(Date.parse(patched.body.expiresAt) - before).to.be.within(7_198_000, 7_202_000);
    for (const [body, field] of [
      [{ ttl: 60, expiresAt: '2030-01-01T00:00:00Z' }, 'expiresAt'],
      [{ ttl: 400 * 86_400 }, 'ttl'],
      [{ ttl: 0 }, 'ttl'],
    ] as const) {
      const res = await api().patch(`/admin/keys/${key.id}`).set('Authorization', auth).send(body);
      expect([res.status, res.body.code], show(res)).to.deep.equal([400, 'validation_failed']);
      expect(res.body.errors.map((e: { field: string }) => e.field), show(res)).to.include(field);
    }
  });

  it('answers 404 not_found for an unknown key id on get, patch and delete', async () => {
    const auth = `Bearer ${issuer.admin}`;
    for (const res of [
      await api().get('/admin/keys/nope').set('Authorization', auth),
      await api().patch('/admin/keys/nope').set('Authorization', auth).send({ rateLimit: 3 }),
      await api().delete('/admin/keys/nope').set('Authorization', auth),
    ]) {
      expect(res.status, show(res)).to.equal(404);
      expect(res.body.code).to.equal('not_found');
    }
  });

  it('rotates the signing key to the one it published beforehand: new keys use it, old keys still verify, all are in the JWKS', async () => {
    const auth = `Bearer ${issuer.admin}`;
    const old = await create({ sub: 'erin', ttl: 600 });
    const oldKid = decodeProtectedHeader(old.body.key).kid;
    const before = (await api().get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(before, 'the current key and the next one, published before it signs anything').to.have.length(2).and.include(oldKid);
    const prepublished = before.find((kid: string) => kid !== oldKid);

    const rotated = await api().post('/admin/signing-keys/rotate').set('Authorization', auth);

    expect(rotated.status, show(rotated)).to.equal(201);
    expect(rotated.body.kid, 'the key published before the rotation').to.equal(prepublished);
    expect(rotated.body.next).to.be.a('string').and.not.be.oneOf([oldKid, prepublished]);
    // Other replicas sign with a rotation made through one within seconds (they check every 2 s).
    const signsWith = async (url: string) =>
      decodeProtectedHeader((await request(url).post('/admin/keys').set('Authorization', auth).send({ sub: 'erin', ttl: 600 })).body.key).kid;
    await waitFor(async () => (await Promise.all(issuer.replicas.map(signsWith))).every((kid) => kid === rotated.body.kid), 10_000, 250);
    const fresh = await create({ sub: 'erin', ttl: 600 });
    expect(decodeProtectedHeader(fresh.body.key).kid).to.equal(rotated.body.kid);
    const jwks = (await api().get('/.well-known/jwks.json')).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).to.have.members([oldKid, rotated.body.kid, rotated.body.next]);
    const set = createLocalJWKSet(jwks);
    await jwtVerify(old.body.key, set, { algorithms: ['EdDSA'] });
    await jwtVerify(fresh.body.key, set, { algorithms: ['EdDSA'] });
  });

  it('when a key signed by a retired signing key gets a later expiresAt, the JWKS keeps that signing key until then', async () => {
    let clock = Date.now();
    const clocked = await startTestIssuer({ now: () => clock });
    try {
      const auth = async () => `Bearer ${await clocked.adminToken()}`;
      const kids = async () => {
        const res = await request(clocked.url).get('/.well-known/jwks.json');
        expect(res.status, show(res)).to.equal(200);
        return res.body.keys.map((k: { kid: string }) => k.kid) as string[];
      };
      const key = await request(clocked.url).post('/admin/keys').set('Authorization', await auth()).send({ sub: 'gina', ttl: 3600 });
      expect(key.status, show(key)).to.equal(201);
      const oldKid = decodeProtectedHeader(key.body.key).kid;
      const rotated = await request(clocked.url).post('/admin/signing-keys/rotate').set('Authorization', await auth());
      expect(rotated.status, show(rotated)).to.equal(201);
      const later = new Date(clock + 7200_000).toISOString();
      const patched = await request(clocked.url).patch(`/admin/keys/${key.body.id}`).set('Authorization', await auth()).send({ expiresAt: later });
      expect(patched.status, show(patched)).to.equal(200);

      clock += 3700_000; // past the key's first expiry and the sign-in lifetime
      expect(await kids(), 'the patched key still verifies').to.have.members([oldKid, rotated.body.kid, rotated.body.next]);
      clock += 3600_000; // past the patched expiry
      expect(await kids()).to.have.members([rotated.body.kid, rotated.body.next]);
    } finally {
      await clocked.destroy();
    }
  });

  it('echoes X-Request-Id and logs the request with it, never the key string or the admin token', async () => {
    const res = await create({ sub: 'frank' }).set('X-Request-Id', 'req-123');
    expect(res.headers['x-request-id']).to.equal('req-123');
    const generated = await api().get('/healthz');
    expect(generated.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(issuer.logs.some((l) => l.includes('"requestId":"req-123"'))).to.equal(true);
    const secrets = [res.body.key, issuer.admin, res.body.key.split('.')[2], issuer.admin.split('.')[2]];
    for (const line of issuer.logs) for (const s of secrets) expect(line).to.not.include(s);
  });
});
