/**
 * Quota leasing benchmark: what the Redis rate limiter costs per request for one hot key, with
 * leases (the default, at most 64 requests each) and without (one script call per request), in
 * alternating rounds: the limiter's own CPU (this process), redis-server's CPU (`INFO cpu`) and
 * the script calls Redis ran, per request. The HTTP stack is left out, so the limiter's share is
 * not lost in the noise of a shared machine (the ablation has the whole service).
 *
 * `npx tsx bench/lease-bench.ts [--quick]` (starts its own redis-server).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from '../verifier/src/store/redis-rate-limiter.js';
import { startRedis } from '../test/support/processes.js';
import { scriptCalls } from '../verifier/test/support/redis-script-calls.js';
import { median } from './stats.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
/** Turns of concurrent requests per round, and requests per turn (as 16 busy connections send them). */
const TURNS = quick ? 1000 : 4000;
const CONCURRENCY = 16;

/** Redis's CPU seconds so far (user + system, all threads). */
async function redisCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

const redis = await startRedis({ owned: true });
const admin = new Redis(redis.url);
const results = new Map<number, { limiterUs: number[]; redisUs: number[]; calls: number[]; rps: number[] }>();
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const leaseMax of round % 2 ? [64, 1] : [1, 64]) {
      const client = new Redis(redis.url, REDIS_CLIENT_OPTIONS);
      await new Promise((resolve) => client.once('ready', resolve));
      const limiter = createRedisRateLimiter({ redis: client, keyPrefix: `lease-bench-${round}-${leaseMax}`, leaseMax });
      const limits = [{ name: 'default', limit: 1_000_000_000, windowSeconds: 3600 }];
      const [calls0, redis0] = [await scriptCalls(admin), await redisCpu(admin)];
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let turn = 0; turn < TURNS; turn++) {
        await Promise.all(Array.from({ length: CONCURRENCY }, () => limiter.consume('hot', limits)));
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const requests = TURNS * CONCURRENCY;
      const [calls1, redis1] = [await scriptCalls(admin), await redisCpu(admin)];
      await limiter.close?.();
      client.disconnect();
      const r = results.get(leaseMax) ?? { limiterUs: [], redisUs: [], calls: [], rps: [] };
      r.limiterUs.push((cpu.user + cpu.system) / requests);
      r.redisUs.push(((redis1 - redis0) * 1e6) / requests);
      r.calls.push((calls1 - calls0) / requests);
      r.rps.push(requests / seconds);
      results.set(leaseMax, r);
    }
  }
} finally {
  admin.disconnect();
  await redis.destroy();
}

const f = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
process.stdout.write(`one hot key, ${CONCURRENCY} concurrent requests per turn, ${TURNS * CONCURRENCY} requests per round, median of ${ROUNDS} rounds\n`);
process.stdout.write('leases            limiter CPU µs/req  redis-server CPU µs/req  script calls/req  req/s\n');
for (const [leaseMax, r] of [...results].sort((a, b) => a[0] - b[0])) {
  const name = leaseMax === 1 ? 'off (leaseMax 1)' : `on (leaseMax ${leaseMax})`;
  process.stdout.write(
    `${name.padEnd(18)}${f(median(r.limiterUs)).padStart(18)}  ${f(median(r.redisUs)).padStart(23)}  ${f(median(r.calls), 3).padStart(16)}  ${f(median(r.rps), 0).padStart(7)}\n`,
  );
}
