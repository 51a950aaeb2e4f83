import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { waitFor } from '../../test/support/processes.js';
import { keyEvent } from './support/key-events.js';
import { signKey } from './support/signing.js';
import { shown, useTestVerifier, type TestVerifier } from './support/verifier-fixture.js';

type Answer = { status: number; text: string; headers: Record<string, string>; body: { code?: string } };

function tally(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

describe('verifier: rate limits shared through Redis', () => {
  // Servers of each test's own: a test kills Redis.
  const t = useTestVerifier({ events: 'nats', redis: true, instances: 2, servers: 'each' });
  let a: TestVerifier;
  let b: TestVerifier;
  beforeEach(() => {
    [a, b] = t.verifiers as [TestVerifier, TestVerifier];
  });

  async function activeKey(rateLimit: number) {
    const key = await signKey(t.signer, { rateLimit });
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    await waitFor(async () => (await a.get('/key/info', key.token)).status === 200 && (await b.get('/key/info', key.token)).status === 200, 3000);
    return key;
  }

  it('when many concurrent requests hit two instances, serves exactly the limit and answers the rest 429 rate_limited', async () => {
    const key = await activeKey(20);

    const answers = (await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).get('/price?symbol=ETH', key.token)),
    )) as unknown as Answer[];

    expect(tally(answers)).to.deep.equal({ 200: 20, 429: 40 });
    for (const res of answers) {
      expect(res.headers['ratelimit-policy'], shown(res)).to.equal('"default";q=20;w=60');
      expect(res.headers['ratelimit'], shown(res)).to.match(/^"default";r=\d+;t=\d+$/);
      if (res.status === 429) {
        expect(res.body.code, shown(res)).to.equal('rate_limited');
        expect(Number(res.headers['retry-after']), shown(res)).to.be.within(1, 60);
        expect(res.headers['ratelimit'], shown(res)).to.match(/^"default";r=0;/);
      }
    }
  });

  it('with several limits, concurrent requests on two instances are served exactly up to the tightest limit and no limit is charged for a refusal', async () => {
    // Two keys, each held back by another of its limits.
    const keys = [
      { burst: 7, hour: 1000 },
      { burst: 1000, hour: 6 },
    ];
    for (const [i, counts] of keys.entries()) {
      const limits = [
        { name: 'burst', limit: counts.burst, windowSeconds: 60 },
        { name: 'hour', limit: counts.hour, windowSeconds: 3600 },
      ];
      const key = await signKey(t.signer, { rateLimit: counts.burst });
      await t.stream.publish(keyEvent(key, 'key.created', { version: 1, limits }));
      await waitFor(async () => {
        const infos = await Promise.all([a.get('/key/info', key.token), b.get('/key/info', key.token)]);
        return infos.every((r) => r.status === 200 && r.body.limits?.length === 2);
      }, 3000);

      const answers = (await Promise.all(
        Array.from({ length: 40 }, (_, j) => (j % 2 ? a : b).get('/price?symbol=ETH', key.token)),
      )) as unknown as Answer[];

      const allowed = Math.min(counts.burst, counts.hour);
      expect(tally(answers), `key ${i}`).to.deep.equal({ 200: allowed, 429: 40 - allowed });
      for (const res of answers) {
        expect(res.headers['ratelimit-policy'], shown(res)).to.equal(`"burst";q=${counts.burst};w=60, "hour";q=${counts.hour};w=3600`);
      }
      const info = await a.get('/key/info', key.token);
      const left = Object.fromEntries((info.body.limits as { name: string; remaining: number }[]).map((l) => [l.name, l.remaining]));
      expect(left, 'each limit was charged exactly the requests served').to.deep.equal({ burst: counts.burst - allowed, hour: counts.hour - allowed });
    }
  });

  it('with credits, concurrent requests on two instances are served exactly the credits, the rest 429 credits_exhausted', async () => {
    const key = await signKey(t.signer, { rateLimit: 1000 });
    const credits = { remaining: 13, grantedAt: Math.floor(Date.now() / 1000), grant: randomUUID() };
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1, credits }));
    await waitFor(async () => {
      const infos = await Promise.all([a.get('/key/info', key.token), b.get('/key/info', key.token)]);
      return infos.every((r) => r.status === 200 && r.body.credits?.remaining === 13);
    }, 3000);

    const answers = (await Promise.all(
      Array.from({ length: 50 }, (_, j) => (j % 2 ? a : b).get('/price?symbol=ETH', key.token)),
    )) as unknown as Answer[];

    expect(tally(answers)).to.deep.equal({ 200: 13, 429: 37 });
    for (const res of answers.filter((r) => r.status === 429)) expect(res.body.code, shown(res)).to.equal('credits_exhausted');
    const info = await b.get('/key/info', key.token);
    expect(info.body.credits).to.deep.equal({ remaining: 0 });
  });

  it('when an instance stops, the unused requests of its quota leases go back: Redis counts exactly what was served', async () => {
    const key = await activeKey(1000);
    for (let i = 0; i < 20; i++) {
      const res = await a.get('/price?symbol=ETH', key.token);
      expect(res.status, shown(res)).to.equal(200);
    }
    const admin = new Redis(t.redis.url);
    try {
      const count = async () => Number(await admin.get(`${t.keyPrefix}:{${key.keyId}}:default:60`));
      expect(await count(), 'a holds a lease with requests left').to.be.above(20);

      await a.stop();

      expect(await count()).to.equal(20);
    } finally {
      admin.disconnect();
    }
  });

  it('GET /key/info does not count: an exhausted key still sees its plan with remaining 0 and resetAt', async () => {
    const key = await activeKey(2);
    await a.get('/price?symbol=BTC', key.token);
    await b.get('/price?symbol=BTC', key.token);
    const refused = await a.get('/price?symbol=BTC', key.token);
    expect(refused.status, shown(refused)).to.equal(429);

    const info = await b.get('/key/info', key.token);
    const again = await b.get('/key/info', key.token);

    expect(info.status, shown(info)).to.equal(200);
    expect(info.body).to.include({ id: key.keyId, sub: key.sub, role: 'user', rateLimit: 2, status: 'active', remaining: 0 });
    expect(Date.parse(info.body.resetAt) / 1000).to.be.within(Math.floor(Date.now() / 1000), Math.ceil(Date.now() / 1000) + 61);
    expect(again.status, shown(again)).to.equal(200);
  });

  it('when Redis dies, still answers (no 5xx) and enforces the limit per instance; when it returns, counting is shared again', async function () {
    this.timeout(30_000);
    const key = await activeKey(5);
    await t.redis.kill();

    for (const instance of [a, b]) {
      const answers = [];
      for (let i = 0; i < 8; i++) answers.push(await instance.get('/price?symbol=SOL', key.token));
      expect(tally(answers as unknown as Answer[]), answers.map((r) => shown(r)).join('\n')).to.deep.equal({ 200: 5, 429: 3 });
    }
    expect(await a.metricsText()).to.match(/^akm_verifier_redis_fallbacks_total [1-9]\d*$/m);

    await t.redis.start();
    await waitFor(() => a.countingInRedis() && b.countingInRedis(), 10_000);
    const fresh = await activeKey(5);
    const answers = (await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).get('/price?symbol=SOL', fresh.token)),
    )) as unknown as Answer[];
    expect(tally(answers)).to.deep.equal({ 200: 5, 429: 5 });
  });
});
