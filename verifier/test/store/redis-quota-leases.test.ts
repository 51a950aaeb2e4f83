import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { scriptCalls } from '../support/redis-script-calls.js';
import { startRedis, waitFor, type TestServer } from '../../../test/support/processes.js';
import type { CountedLimit, RateLimiter } from '../../src/domain/rate-limiter.js';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS, type RedisRateLimiterOptions } from '../../src/store/redis-rate-limiter.js';

/** Most requests a lease may hold with a limit of `limit` (the server caps a grant at floor(room / 16)). */
const leaseBound = (limit: number) => Math.max(1, Math.floor(limit / 16));

describe('verifier: quota leases in the Redis limiter', () => {
  let redis: TestServer | undefined;
  let admin: Redis | undefined;
  let prefix: string;
  const clients: Redis[] = [];
  const limiters: RateLimiter[] = [];

  beforeEach(async () => {
    // Its own server: some tests read server-wide command counts.
    redis = await startRedis({ owned: true });
    admin = new Redis(redis.url);
    prefix = `rl-${randomUUID()}`;
  });
  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((l) => l.close?.().catch(() => undefined)));
    for (const c of clients.splice(0)) c.disconnect();
    admin?.disconnect();
    await redis?.destroy();
    admin = undefined;
    redis = undefined;
  });

  /** A limiter instance on its own client, as one verifier process has. */
  async function instance(options: Partial<RedisRateLimiterOptions> = {}): Promise<RateLimiter> {
    const client = new Redis(redis!.url, REDIS_CLIENT_OPTIONS);
    clients.push(client);
    const limiter = createRedisRateLimiter({ redis: client, keyPrefix: prefix, ...options });
    limiters.push(limiter);
    await waitFor(() => limiter.counting?.() === 'shared', 5000);
    return limiter;
  }
  /** What Redis has counted for `keyId` in the window of `limit` now. */
  const counted = async (keyId: string, limit: CountedLimit) =>
    Number((await admin!.get(`${prefix}:{${keyId}}:${limit.name}:${limit.windowSeconds}`)) ?? '0');

  it('three instances, 1,500 concurrent requests on a key with two limits: serves exactly the tightest, and charges both limits the same', async () => {
    const instances = await Promise.all([instance(), instance(), instance()]);
    const limits: CountedLimit[] = [
      { name: 'burst', limit: 900, windowSeconds: 60 },
      { name: 'hour', limit: 600, windowSeconds: 3600 },
    ];
    const keyId = `k-${randomUUID()}`;

    const decisions = await Promise.all(Array.from({ length: 1500 }, (_, i) => instances[i % 3]!.consume(keyId, limits)));

    const served = decisions.filter((d) => d.allowed).length;
    expect(served, 'served on a tightest limit of 600').to.be.at.most(600);
    const [burst, hour] = [await counted(keyId, limits[0]!), await counted(keyId, limits[1]!)];
    expect(burst, 'a lease is charged to every limit of the key').to.equal(hour);
    expect(hour, 'Redis never counts past the limit').to.be.at.most(600);
    // Every instance wanted more than it got: whatever one held it served, so nothing stays stranded.
    expect(served, 'served with three instances leasing').to.equal(600);
    for (const d of decisions.filter((x) => !x.allowed)) expect(d.window.name).to.equal('hour');
  });

  it('cuts the script calls of a hot key to a fraction of its requests, and with leaseMax 1 makes one per request', async () => {
    const limits: CountedLimit[] = [{ name: 'default', limit: 1_000_000, windowSeconds: 60 }];
    const leasing = await instance();
    const single = await instance({ leaseMax: 1 });
    const run = async (limiter: RateLimiter) => {
      const before = await scriptCalls(admin!);
      const keyId = `k-${randomUUID()}`;
      // 20 turns of 50 concurrent requests, as a busy connection pool sends them.
      for (let turn = 0; turn < 20; turn++) {
        const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.consume(keyId, limits)));
        expect(decisions.every((d) => d.allowed)).to.equal(true);
      }
      return (await scriptCalls(admin!)) - before;
    };

    const withLeases = await run(leasing);
    const withoutLeases = await run(single);

    expect(withoutLeases, 'script calls for 1,000 requests without leases').to.equal(1000);
    expect(withLeases, 'script calls for 1,000 requests with leases').to.be.at.most(100);
  });

  it('shrinks leases near the limit: the last 31 requests of a window are one script call each, and none is stranded', async () => {
    const limiter = await instance();
    const limit: CountedLimit = { name: 'default', limit: 48, windowSeconds: 60 };
    const keyId = `k-${randomUUID()}`;
    const before = await scriptCalls(admin!);
    for (let i = 0; i < 48; i++) expect((await limiter.consume(keyId, [limit])).allowed).to.equal(true);
    const calls = (await scriptCalls(admin!)) - before;

    // Leases ask for 1, 2, 4, … but a grant is at most floor(room / 16): 1 once fewer than 32 are left.
    expect(calls, 'script calls for 48 requests on a limit of 48').to.be.at.least(32);
    expect(calls).to.be.below(48);
    expect(await counted(keyId, limit)).to.equal(48);
  });

  it('refuses every request that waited for a refused grant, with its standing, even on a limit that opens no window', async () => {
    const limiter = await instance();
    const keyId = `k-${randomUUID()}`;
    const none: CountedLimit = { name: 'none', limit: 0, windowSeconds: 60 };

    const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.consume(keyId, [none])));

    for (const d of decisions) {
      expect(d.allowed).to.equal(false);
      expect(d.window).to.include({ name: 'none', remaining: 0 });
    }
  });

  it('a key seen less than once a second asks for one request at a time: nothing is stranded and nothing given back', async () => {
    let clock = Date.now();
    const limiter = await instance({ now: () => clock });
    const limit: CountedLimit = { name: 'default', limit: 1000, windowSeconds: 60 };
    const keyId = `k-${randomUUID()}`;
    const before = await scriptCalls(admin!);
    for (let i = 1; i <= 10; i++) {
      expect((await limiter.consume(keyId, [limit])).allowed).to.equal(true);
      expect(await counted(keyId, limit), `Redis counts only what was served, after request ${i}`).to.equal(i);
      clock += 1200;
    }
    // One grant of one request per request: no lease was too big, so none was given back.
    expect((await scriptCalls(admin!)) - before, 'script calls for 10 requests').to.equal(10);
  });

  it('does not lease a key with credits: one script call per request', async () => {
    const limiter = await instance();
    const limits: CountedLimit[] = [
      { name: 'default', limit: 1000, windowSeconds: 60 },
      { name: 'credits', limit: 10_000, windowSeconds: 86_400 * 30, counter: `credits-${randomUUID()}` },
    ];
    const before = await scriptCalls(admin!);
    for (let i = 0; i < 40; i++) expect((await limiter.consume('k', limits)).allowed).to.equal(true);
    expect((await scriptCalls(admin!)) - before).to.equal(40);
    expect(Number(await admin!.get(`${prefix}:${limits[1]!.counter}`)), 'credits charged exactly the requests served').to.equal(40);
  });

  it('reports as remaining what Redis has not counted plus what the lease has not served', async () => {
    const limiter = await instance();
    const limits: CountedLimit[] = [{ name: 'default', limit: 1000, windowSeconds: 60 }];
    const remaining: number[] = [];
    for (let i = 0; i < 30; i++) remaining.push((await limiter.consume('k', limits)).window.remaining);
    expect(remaining).to.deep.equal(Array.from({ length: 30 }, (_, i) => 999 - i));
  });

  it('on close, gives the unused requests of its leases back: Redis then counts exactly the requests served', async () => {
    const limiter = await instance();
    const limit: CountedLimit = { name: 'default', limit: 1000, windowSeconds: 60 };
    const keyId = `k-${randomUUID()}`;
    for (let i = 0; i < 20; i++) expect((await limiter.consume(keyId, [limit])).allowed).to.equal(true);
    const charged = await counted(keyId, limit);
    expect(charged, 'the instance holds a lease with requests left').to.be.above(20);

    await limiter.close!();

    expect(await counted(keyId, limit), 'counted after close').to.equal(20);
  });

  it('never gives a lease back into a newer window of the key, only to the window it was charged to', async () => {
    // Its clock stands still: the lease neither expires nor idles here, so only close() gives it back.
    const frozen = Date.now();
    const holder = await instance({ now: () => frozen });
    const other = await instance({ leaseMax: 1 });
    const limit: CountedLimit = { name: 'burst', limit: 1000, windowSeconds: 1 };
    const keyId = `k-${randomUUID()}`;
    for (let i = 0; i < 20; i++) await holder.consume(keyId, [limit]);
    expect(await counted(keyId, limit), 'the holder keeps a lease with requests left').to.be.above(20);

    await waitFor(async () => (await admin!.exists(`${prefix}:{${keyId}}:burst:1`)) === 0, 3000);
    for (let i = 0; i < 3; i++) await other.consume(keyId, [limit]);
    await holder.close!();

    expect(await counted(keyId, limit), 'the newer window counts its own three requests').to.equal(3);
  });

  it('a lease is not served once its window has ended: the next request is charged to the new window', async () => {
    const limiter = await instance();
    const limit: CountedLimit = { name: 'burst', limit: 1000, windowSeconds: 1 };
    const keyId = `k-${randomUUID()}`;
    for (let i = 0; i < 20; i++) await limiter.consume(keyId, [limit]);
    expect(await counted(keyId, limit), 'a lease with requests left').to.be.above(20);
    await waitFor(async () => (await admin!.exists(`${prefix}:{${keyId}}:burst:1`)) === 0, 3000);

    expect((await limiter.consume(keyId, [limit])).allowed).to.equal(true);

    expect(await counted(keyId, limit), 'counted in the new window').to.be.at.least(1);
  });

  it('an idle instance strands at most its last lease, and for about two seconds: then another instance gets it', async () => {
    const limit: CountedLimit = { name: 'default', limit: 200, windowSeconds: 60 };
    const keyId = `k-${randomUUID()}`;
    const [a, b] = await Promise.all([instance(), instance()]);
    for (let i = 0; i < 30; i++) await a.consume(keyId, [limit]);
    for (let i = 0; i < 30; i++) await b.consume(keyId, [limit]);
    const stranded = (await counted(keyId, limit)) - 60;
    expect(stranded, 'a and b hold leases with requests left').to.be.above(0);
    expect(stranded, 'at most their last leases').to.be.at.most(2 * leaseBound(200));

    // a and b go idle; a newcomer asks for everything left.
    const serveAll = async (limiter: RateLimiter) =>
      (await Promise.all(Array.from({ length: 200 }, () => limiter.consume(keyId, [limit])))).filter((d) => d.allowed).length;
    const c = await instance();
    const first = await serveAll(c);
    expect(first, 'served at once while a and b hold their leases').to.be.at.least(140 - stranded);
    await sleep(2100);
    const later = await serveAll(await instance());

    expect(first + later, `served at once (${first}) and once a and b gave their idle leases back (${later})`).to.equal(140);
  });

  it('across 1-second windows, never serves more than the limit in any window, even when a burst opens a window right after leases were left unused', async function () {
    this.timeout(30_000);
    const instances = await Promise.all([instance(), instance(), instance()]);
    const limit: CountedLimit = { name: 'second', limit: 300, windowSeconds: 1 };
    const keyId = `k-${randomUUID()}`;
    const counter = `${prefix}:{${keyId}}:second:1`;
    /** The window open now ends within [lo, hi] (ms since epoch; this machine's clock is Redis's). */
    const windowEnd = async () => {
      const before = Date.now();
      const ttl = await admin!.pttl(counter);
      return ttl > 0 ? { lo: before + ttl, hi: Date.now() + ttl } : undefined;
    };
    const untilAfter = async (end: { hi: number } | undefined) => {
      if (end) await sleep(Math.max(0, end.hi - Date.now()) + 5);
    };
    const servedIn: number[] = [];
    let end: { lo: number; hi: number } | undefined;

    for (let cycle = 0; cycle < 3; cycle++) {
      // Light traffic for half a window: each instance keeps a lease with requests left.
      await untilAfter(end);
      let served = 0;
      const lightUntil = Date.now() + 500;
      await Promise.all(
        instances.map(async (limiter) => {
          while (Date.now() < lightUntil) {
            if ((await limiter.consume(keyId, [limit])).allowed) served++;
            await sleep(10);
          }
        }),
      );
      end = await windowEnd();
      expect(end && Date.now() < end.lo, 'the light phase fit in one window').to.equal(true);
      servedIn.push(served);

      // Right after that window: a burst from every instance opens the next one.
      await untilAfter(end);
      const decisions = await Promise.all(Array.from({ length: 900 }, (_, i) => instances[i % 3]!.consume(keyId, [limit])));
      end = await windowEnd();
      expect(end && Date.now() < end.lo, 'the burst fit in one window').to.equal(true);
      servedIn.push(decisions.filter((d) => d.allowed).length);
    }

    for (const [i, n] of servedIn.entries()) expect(n, `served in window ${i + 1} of ${servedIn.join(', ')}`).to.be.at.most(300);
    expect(Math.min(...servedIn.filter((_, i) => i % 2 === 1)), 'a burst window serves its limit').to.be.at.least(300 - 3 * leaseBound(300));
  });
});
