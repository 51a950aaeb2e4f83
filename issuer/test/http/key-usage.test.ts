import { expect } from 'chai';
import request from 'supertest';
import type { UsageCounts, UsageReport } from '@akm/common';
import { metricTotal, replicaMetrics, startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;

describe('issuer: usage per key (GET …/keys/:id/usage, …/usage/top) and key events', () => {
  // 10:30:20 UTC on a fixed day: periods of every size have a known start.
  let clock: number;
  let issuer: TestIssuer;
  let seq = 0;
  beforeEach(async () => {
    clock = Date.UTC(2031, 0, 15, 10, 30, 20);
    issuer = await startTestIssuer({ now: () => clock });
  });
  afterEach(async () => {
    await issuer.destroy();
  });

  const nowS = () => Math.floor(clock / 1000);
  const minuteOf = (s: number) => s - (s % MIN);
  const admin = () => ({ Authorization: `Bearer ${issuer.admin}` });
  async function mint(sub = 'alice'): Promise<string> {
    const res = await request(issuer.url).post('/admin/keys').set(admin()).send({ sub, ttl: 30 * DAY });
    expect(res.status, show(res)).to.equal(201);
    return res.body.id as string;
  }
  /** Publishes a report through the issuer's in-process usage bus, as a verifier in its process does. */
  async function report(minutes: Array<[number, Record<string, Partial<UsageCounts>>]>, id = `test:${++seq}`): Promise<UsageReport> {
    const r: UsageReport = { v: 1, id, source: 'test', minutes: minutes.map(([at, keys]) => ({ at, keys })) };
    await issuer.usagePublisher!.publish(r);
    return r;
  }
  const usage = (id: string, query: Record<string, string> = {}) =>
    request(issuer.url).get(`/admin/keys/${id}/usage`).query(query).set(admin());
  async function signIn(username: string): Promise<string> {
    const password = 'a long enough password';
    const created = await request(issuer.url).post('/admin/users').set(admin()).send({ username, password });
    expect(created.status, show(created)).to.equal(201);
    const res = await request(issuer.url).post('/auth/login').send({ username, password });
    expect(res.status, show(res)).to.equal(200);
    return res.body.token as string;
  }

  it('counts a report once: the same report delivered again adds nothing', async () => {
    const id = await mint();
    const sent = await report([[minuteOf(nowS()), { [id]: { served: 3, rate_limited: 1 } }]]);
    await issuer.usagePublisher!.publish(sent);
    const res = await usage(id);
    expect(res.status, show(res)).to.equal(200);
    expect(res.body.totals).to.deep.equal({ served: 3, rate_limited: 1, credits_exhausted: 0, forbidden: 0, revoked: 0, disabled: 0, expired: 0 });
    expect(await metricTotal(issuer, 'akm_issuer_usage_reports_total{result="applied"}')).to.equal(1);
    expect(await metricTotal(issuer, 'akm_issuer_usage_reports_total{result="duplicate"}')).to.equal(1);
    expect(await metricTotal(issuer, 'akm_issuer_usage_requests_total{outcome="served"}'), 'Prometheus keeps totals per outcome, not per key').to.equal(3);
    expect(await replicaMetrics(issuer)).not.to.include(id);
  });

  it('answers every minute of the window, zeros included, with each outcome in its minute and the totals', async () => {
    const id = await mint();
    const m = minuteOf(nowS());
    await report([
      [m - 2 * MIN, { [id]: { served: 5, forbidden: 1 } }],
      [m, { [id]: { served: 2, expired: 4 } }],
    ]);
    await report([[m, { [id]: { served: 1, revoked: 2, disabled: 3 } }]]);
    const res = await usage(id, { from: new Date((m - 3 * MIN) * 1000).toISOString(), to: new Date(clock).toISOString(), granularity: 'minute' });
    expect(res.status, show(res)).to.equal(200);
    expect(res.body).to.include({ keyId: id, granularity: 'minute', from: new Date((m - 3 * MIN) * 1000).toISOString() });
    expect(res.body.items.map((i: { at: string; served: number }) => [i.at, i.served])).to.deep.equal([
      [new Date((m - 3 * MIN) * 1000).toISOString(), 0],
      [new Date((m - 2 * MIN) * 1000).toISOString(), 5],
      [new Date((m - MIN) * 1000).toISOString(), 0],
      [new Date(m * 1000).toISOString(), 3],
    ]);
    expect(res.body.items[3]).to.deep.equal({ at: new Date(m * 1000).toISOString(), served: 3, rate_limited: 0, credits_exhausted: 0, forbidden: 0, revoked: 2, disabled: 3, expired: 4 });
    expect(res.body.totals).to.deep.equal({ served: 8, rate_limited: 0, credits_exhausted: 0, forbidden: 1, revoked: 2, disabled: 3, expired: 4 });
  });

  it('rolls minutes up into hours and days; by default the last 24 hours by hour', async () => {
    const id = await mint();
    const m = minuteOf(nowS());
    await report([
      [m - 2 * HOUR, { [id]: { served: 1 } }],
      [m - 2 * HOUR + 5 * MIN, { [id]: { served: 2 } }],
      [m, { [id]: { rate_limited: 7 } }],
      [m - 3 * DAY, { [id]: { served: 100 } }],
    ]);
    const byHour = await usage(id);
    expect(byHour.status, show(byHour)).to.equal(200);
    expect(byHour.body.granularity).to.equal('hour');
    expect(byHour.body.items, 'every hour of the last 24, the current one included').to.have.length(25);
    const hourOf = (s: number) => new Date((s - (s % HOUR)) * 1000).toISOString();
    const at = (iso: string) => byHour.body.items.find((i: { at: string }) => i.at === iso);
    expect(at(hourOf(m - 2 * HOUR))).to.include({ served: 3 });
    expect(at(hourOf(m))).to.include({ rate_limited: 7, served: 0 });
    expect(byHour.body.totals).to.include({ served: 3, rate_limited: 7 });

    const from = new Date((nowS() - 5 * DAY) * 1000).toISOString();
    const byDay = await usage(id, { from, granularity: 'day' });
    expect(byDay.status, show(byDay)).to.equal(200);
    expect(byDay.body.items).to.have.length(6);
    const dayOf = (s: number) => new Date((s - (s % DAY)) * 1000).toISOString();
    expect(byDay.body.items.find((i: { at: string }) => i.at === dayOf(m - 3 * DAY))).to.include({ served: 100 });
    expect(byDay.body.items.find((i: { at: string }) => i.at === dayOf(m))).to.include({ served: 3, rate_limited: 7 });
  });

  it('refuses a bad window with 400 validation_failed naming the field, an unknown key with 404, and no sign-in with 401', async () => {
    const id = await mint();
    const iso = (s: number) => new Date(s * 1000).toISOString();
    for (const [query, field] of [
      [{ from: iso(nowS()), to: iso(nowS() - 60) }, 'from'],
      [{ from: iso(nowS() - 30 * DAY), granularity: 'minute' }, 'granularity'],
      [{ granularity: 'week' }, 'granularity'],
      [{ from: 'yesterday' }, 'from'],
      [{ since: '24h' }, 'since'],
    ] as const) {
      const res = await usage(id, query);
      expect(res.status, show(res)).to.equal(400);
      expect(res.body.code).to.equal('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).to.include(field);
    }
    const unknown = await usage('no-such-key');
    expect(unknown.status, show(unknown)).to.equal(404);
    expect(unknown.body.code).to.equal('not_found');
    const anonymous = await request(issuer.url).get(`/admin/keys/${id}/usage`);
    expect(anonymous.status, show(anonymous)).to.equal(401);
    expect(anonymous.body.code).to.equal('missing_credentials');
  });

  it('drops the counts of keys it never issued', async () => {
    const id = await mint();
    await report([[minuteOf(nowS()), { [id]: { served: 1 }, 'not-a-key-of-ours': { served: 50 } }]]);
    const top = await request(issuer.url).get('/admin/usage/top').set(admin());
    expect(top.status, show(top)).to.equal(200);
    expect(top.body.items.map((i: { id: string }) => i.id)).to.deep.equal([id]);
  });

  it('ranks the busiest keys of a window, exact to the minute at both ends, and leaves out keys with none of the ranked outcome', async () => {
    const [a, b, c, d] = [await mint('alice'), await mint('bob'), await mint('carol'), await mint('dave')];
    const m = minuteOf(nowS());
    const start = m - DAY; // the first minute inside a 24 h window ending now is the one after this
    await report([
      [start - MIN, { [a]: { served: 1000 } }], // before the window
      [start + MIN, { [a]: { served: 5 }, [b]: { served: 9, rate_limited: 2 } }], // in the window's first, partial hour
      [m - 5 * HOUR, { [a]: { served: 6 }, [c]: { rate_limited: 9 } }], // a whole hour
      [m, { [b]: { served: 1 }, [d]: { forbidden: 4 } }], // the current, partial hour
    ]);
    const served = await request(issuer.url).get('/admin/usage/top?by=served&window=24h').set(admin());
    expect(served.status, show(served)).to.equal(200);
    expect(served.body).to.include({ by: 'served' });
    expect(served.body.items.map((i: { id: string; served: number }) => [i.id, i.served])).to.deep.equal([
      [a, 11],
      [b, 10],
    ]);
    expect(served.body.items[0]).to.include({ sub: 'alice', status: 'active', name: null });

    const refused = await request(issuer.url).get('/admin/usage/top?by=rate_limited&window=24h&limit=1').set(admin());
    expect(refused.status, show(refused)).to.equal(200);
    expect(refused.body.items.map((i: { id: string; rate_limited: number }) => [i.id, i.rate_limited])).to.deep.equal([[c, 9]]);

    const lastMinutes = await request(issuer.url).get('/admin/usage/top?window=2m').set(admin());
    expect(lastMinutes.body.items.map((i: { id: string }) => i.id)).to.deep.equal([b]);

    for (const bad of ['by=forbidden', 'window=24', 'window=401d', 'limit=0']) {
      const res = await request(issuer.url).get(`/admin/usage/top?${bad}`).set(admin());
      expect(res.status, `${bad}: ${show(res)}`).to.equal(400);
      expect(res.body.code).to.equal('validation_failed');
    }
  });

  it('a signed-in user reads the usage and events of their own keys only', async () => {
    const bob = await signIn('bob');
    const own = await mint('bob');
    const other = await mint('alice');
    await report([[minuteOf(nowS()), { [own]: { served: 2 }, [other]: { served: 40 } }]]);
    const me = { Authorization: `Bearer ${bob}` };

    const mine = await request(issuer.url).get(`/me/keys/${own}/usage`).set(me);
    expect(mine.status, show(mine)).to.equal(200);
    expect(mine.body.totals.served).to.equal(2);
    for (const path of [`/me/keys/${other}/usage`, `/me/keys/${other}/events`, `/me/keys/${other}`]) {
      const res = await request(issuer.url).get(path).set(me);
      expect(res.status, `${path}: ${show(res)}`).to.equal(404);
      expect(res.body.code).to.equal('not_found');
    }
    const top = await request(issuer.url).get('/me/usage/top').set(me);
    expect(top.status, show(top)).to.equal(200);
    expect(top.body.items.map((i: { id: string }) => i.id)).to.deep.equal([own]);
    const detail = await request(issuer.url).get(`/me/keys/${own}`).set(me);
    expect(detail.status, show(detail)).to.equal(200);
    expect(detail.body).to.include({ id: own, sub: 'bob' });
    expect(detail.body).not.to.have.property('key');

    const adminOnly = await request(issuer.url).get('/admin/usage/top').set(me);
    expect(adminOnly.status, show(adminOnly)).to.equal(403);
  });

  it("lists a key's events newest first, page by page", async () => {
    const id = await mint();
    await request(issuer.url).patch(`/admin/keys/${id}`).set(admin()).send({ rateLimit: 7 });
    await request(issuer.url).patch(`/admin/keys/${id}`).set(admin()).send({ status: 'disabled' });
    await request(issuer.url).delete(`/admin/keys/${id}`).set(admin());
    const first = await request(issuer.url).get(`/admin/keys/${id}/events?limit=3`).set(admin());
    expect(first.status, show(first)).to.equal(200);
    expect(first.body.items.map((e: { type: string }) => e.type)).to.deep.equal(['key.revoked', 'key.disabled', 'key.updated']);
    expect(first.body.items[2]).to.include({ rateLimit: 7, version: 2, status: 'active' });
    const rest = await request(issuer.url).get(`/admin/keys/${id}/events?cursor=${first.body.nextCursor}`).set(admin());
    expect(rest.body.items.map((e: { type: string }) => e.type)).to.deep.equal(['key.created']);
    expect(rest.body.nextCursor).to.equal(null);
  });

  it("shows when each event happened, also for events stored before event version 2 (whose at was in milliseconds)", async () => {
    const id = await mint();
    const legacy = {
      v: 1, type: 'key.updated', id: 'legacy-event', keyId: id, sub: 'alice', role: 'user', status: 'active',
      rateLimit: 9, expiresAt: nowS() + DAY, version: 9, at: clock - 3_600_000 + 250,
    };
    await issuer.db.run('INSERT INTO key_events (event_id, key_id, payload) VALUES (?, ?, ?)', [legacy.id, id, JSON.stringify(legacy)]);
    const res = await request(issuer.url).get(`/admin/keys/${id}/events`).set(admin());
    expect(res.status, show(res)).to.equal(200);
    const [stored, created] = res.body.items as Array<{ type: string; at: string }>;
    expect(stored).to.include({ type: 'key.updated', at: new Date(clock - 3_600_000).toISOString() });
    expect(created).to.include({ type: 'key.created', at: new Date(clock).toISOString() });
  });

  it('keeps minutes for 7 days and hours for 400 days', async () => {
    const id = await mint();
    const m = minuteOf(nowS());
    await report([[m, { [id]: { served: 4 } }]]);
    await issuer.stop();
    clock += 8 * DAY * 1000; // the sweep runs when the issuer starts
    const later = await startTestIssuer({ now: () => clock, dataDir: issuer.dataDir });
    try {
      const auth = { Authorization: `Bearer ${later.admin}` };
      const iso = (s: number) => new Date(s * 1000).toISOString();
      const minutes = await request(later.url).get(`/admin/keys/${id}/usage`).query({ from: iso(m), to: iso(m + HOUR), granularity: 'minute' }).set(auth);
      expect(minutes.status, show(minutes)).to.equal(200);
      expect(minutes.body.totals.served, 'minutes older than 7 days are gone').to.equal(0);
      const hours = await request(later.url).get(`/admin/keys/${id}/usage`).query({ from: iso(m), to: iso(m + HOUR), granularity: 'hour' }).set(auth);
      expect(hours.body.totals.served, 'their hour is kept').to.equal(4);
    } finally {
      await later.destroy();
    }
  });
});
