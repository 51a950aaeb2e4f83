import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { RateLimitSpec } from '@akm/common';
import { startRedis, waitFor, type TestServer } from '../../../test/support/processes.js';
import type { RateLimiter } from '../../src/domain/rate-limiter.js';
import { createMemoryRateLimiter } from '../../src/store/memory-rate-limiter.js';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from '../../src/store/redis-rate-limiter.js';

const remainingOf = (windows: readonly { name: string; remaining: number }[]) =>
  Object.fromEntries(windows.map((w) => [w.name, w.remaining]));

/** The same promises of both limiters: several limits, all or nothing. */
for (const kind of ['memory', 'redis'] as const) {
  describe(`verifier: several limits per key (${kind} limiter)`, () => {
    let redis: TestServer | undefined;
    let client: Redis | undefined;
    let limiter: RateLimiter;
    let prefix: string;

    beforeEach(async () => {
      prefix = `rl-${randomUUID()}`;
      if (kind === 'memory') {
        limiter = createMemoryRateLimiter({ keyPrefix: prefix });
        return;
      }
      redis = await startRedis();
      client = new Redis(redis.url, REDIS_CLIENT_OPTIONS);
      limiter = createRedisRateLimiter({ redis: client, keyPrefix: prefix });
      await waitFor(() => limiter.counting?.() === 'shared', 5000);
    });
    afterEach(async () => {
      client?.disconnect();
      await redis?.destroy();
      client = undefined;
      redis = undefined;
    });

    const limits: RateLimitSpec[] = [
      { name: 'burst', limit: 2, windowSeconds: 60 },
      { name: 'hour', limit: 10, windowSeconds: 3600 },
    ];

    it('serves a request only if every limit allows it, and a refused request charges no limit', async () => {
      const key = `k-${randomUUID()}`;
      const served = [await limiter.consume(key, limits), await limiter.consume(key, limits)];
      expect(served.map((d) => d.allowed)).to.deep.equal([true, true]);
      expect(remainingOf(served[1]!.windows)).to.deep.equal({ burst: 0, hour: 8 });

      for (let i = 0; i < 5; i++) {
        const refused = await limiter.consume(key, limits);
        expect(refused.allowed).to.equal(false);
        expect(refused.window.name, 'the refusing limit is the one reported').to.equal('burst');
        if (!refused.allowed) expect(refused.retryAfterSeconds).to.be.within(1, 60);
      }
      const standing = await limiter.peek(key, limits);
      expect(remainingOf(standing.windows), 'the hour limit was charged only for the two served').to.deep.equal({ burst: 0, hour: 8 });
    });

    it('reports the window closest to refusing, and refuses by whichever limit runs out first', async () => {
      const key = `k-${randomUUID()}`;
      const tight: RateLimitSpec[] = [
        { name: 'minute', limit: 5, windowSeconds: 60 },
        { name: 'day', limit: 3, windowSeconds: 86_400 },
      ];
      const first = await limiter.consume(key, tight);
      expect(first.window).to.include({ name: 'day', remaining: 2, limit: 3, windowSeconds: 86_400 });
      await limiter.consume(key, tight);
      await limiter.consume(key, tight);
      const refused = await limiter.consume(key, tight);
      expect(refused.allowed).to.equal(false);
      expect(refused.window).to.include({ name: 'day', remaining: 0 });
      expect(remainingOf(refused.windows)).to.deep.equal({ minute: 2, day: 0 });
      if (!refused.allowed) expect(refused.retryAfterSeconds).to.be.within(86_000, 86_400);
    });

    it('a changed count applies to what was counted in the window; a new limit starts empty', async () => {
      const key = `k-${randomUUID()}`;
      for (let i = 0; i < 3; i++) await limiter.consume(key, [{ name: 'default', limit: 100, windowSeconds: 60 }]);
      const lowered = await limiter.consume(key, [{ name: 'default', limit: 3, windowSeconds: 60 }]);
      expect(lowered.allowed).to.equal(false);
      const added = await limiter.consume(key, [
        { name: 'default', limit: 5, windowSeconds: 60 },
        { name: 'burst', limit: 1, windowSeconds: 1 },
      ]);
      expect(added.allowed).to.equal(true);
      expect(remainingOf(added.windows)).to.deep.equal({ default: 1, burst: 0 });
    });
  });
}

describe('verifier: several limits in memory, on an explicit clock', () => {
  it('a one-second burst window resets after a second while the minute window keeps counting', async () => {
    let clock = 1_700_000_000_000;
    const limiter = createMemoryRateLimiter({ now: () => clock });
    const limits: RateLimitSpec[] = [
      { name: 'burst', limit: 2, windowSeconds: 1 },
      { name: 'minute', limit: 3, windowSeconds: 60 },
    ];
    const allowed = async () => (await limiter.consume('k', limits)).allowed;
    expect([await allowed(), await allowed(), await allowed()]).to.deep.equal([true, true, false]);
    clock += 1000;
    expect(await allowed()).to.equal(true);
    const refused = await limiter.consume('k', limits);
    expect(refused.allowed).to.equal(false);
    expect(refused.window.name).to.equal('minute');
    if (!refused.allowed) expect(refused.retryAfterSeconds).to.equal(59);
    clock += 59_000;
    expect(await allowed(), 'both windows reset').to.equal(true);
  });
});
