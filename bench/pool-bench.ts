/**
 * Token pool benchmark: assign + unblock pairs per second and per-operation latency (assign,
 * unblock, keep-alive, one sweep batch) at growing pool sizes, on both stores, to show that
 * the cost of an operation does not grow with the pool.
 *
 * `npx tsx bench/pool-bench.ts [--quick]` (starts its own redis-server unless REDIS_URL is set).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { createRedisPoolStore, createSqlitePoolStore, type TokenPoolStore } from '../issuer/src/pool/index.js';
import { startRedis } from '../test/support/processes.js';

/** One measured pool size on one store. Latencies in milliseconds. */
export interface PoolBenchRow {
  store: 'sqlite' | 'redis';
  poolSize: number;
  /** Seconds to fill the pool. */
  fillSeconds: number;
  /** Sequential assign + unblock pairs per second, one client. */
  pairsPerSecond: number;
  assignP50: number;
  assignP99: number;
  unblockP50: number;
  unblockP99: number;
  keepAliveP50: number;
  keepAliveP99: number;
  /** One sweep of `SWEEP_BATCH` due purges. */
  sweepP50: number;
  sweepP99: number;
}

const FILL_BATCH = 10_000;
const SWEEP_BATCH = 500;
const TIMINGS = { keepAliveMs: 300_000, assignTtlMs: 60_000 };

/** A store on fresh storage, and how to dispose of it. */
interface BenchStore {
  store: TokenPoolStore;
  dispose(): Promise<void>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function timed(samples: number[], op: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await op();
  samples.push(performance.now() - start);
}

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

async function fill(store: TokenPoolStore, size: number): Promise<void> {
  const limits = { maxTokens: size, keepAliveMs: TIMINGS.keepAliveMs };
  const batches: Promise<unknown>[] = [];
  for (let from = 0; from < size; from += FILL_BATCH) {
    const tokens = Array.from({ length: Math.min(FILL_BATCH, size - from) }, (_, i) => `b${from + i}`);
    // A few batches in flight keep Redis busy (ioredis pipelines them); SQLite runs them in turn.
    batches.push(store.addTokens(tokens, limits).then((r) => r.ok || Promise.reject(new Error(`fill: ${r.reason}`))));
    if (batches.length >= 4) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
}

async function measure(kind: PoolBenchRow['store'], size: number, make: (now: () => number) => BenchStore, ops: number) {
  let at = Date.now();
  const { store, dispose } = make(() => at);
  try {
    const fillStart = performance.now();
    await fill(store, size);
    const fillSeconds = (performance.now() - fillStart) / 1000;

    const assign: number[] = [];
    const unblock: number[] = [];
    const pairsStart = performance.now();
    for (let i = 0; i < ops; i++) {
      let token = '';
      await timed(assign, async () => {
        const result = await store.assign('bench', TIMINGS, { maxPerHolder: 1 });
        if (!result.ok) throw new Error('bench pool ran empty');
        token = result.value.token;
      });
      await timed(unblock, () => store.unblock(token, { sub: 'bench', admin: false }));
    }
    const pairsPerSecond = ops / ((performance.now() - pairsStart) / 1000);

    const keepAlive: number[] = [];
    for (let i = 0; i < ops; i++) {
      const token = `b${Math.floor(Math.random() * size)}`;
      await timed(keepAlive, () => store.keepAlive(token, { sub: 'bench', admin: false }, TIMINGS));
    }

    // Past the keep-alive period the whole pool is due: each sweep purges a full batch.
    at += TIMINGS.keepAliveMs;
    const sweep: number[] = [];
    for (let i = 0; i < Math.min(20, Math.floor(size / SWEEP_BATCH)); i++) await timed(sweep, () => store.sweep(SWEEP_BATCH));

    const [a, u, k, s] = [stats(assign), stats(unblock), stats(keepAlive), stats(sweep)];
    return {
      store: kind, poolSize: size, fillSeconds, pairsPerSecond,
      assignP50: a.p50, assignP99: a.p99, unblockP50: u.p50, unblockP99: u.p99,
      keepAliveP50: k.p50, keepAliveP99: k.p99, sweepP50: s.p50, sweepP99: s.p99,
    } satisfies PoolBenchRow;
  } finally {
    await dispose();
  }
}

function sqliteMaker(dir: string) {
  return (now: () => number): BenchStore => {
    const file = join(dir, `pool-${Date.now()}-${Math.random().toString(36).slice(2)}.sqlite`);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return {
      store: createSqlitePoolStore({ db, now }),
      dispose: async () => {
        db.close();
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        rmSync(`${file}-shm`, { force: true });
      },
    };
  };
}

function redisMaker(url: string) {
  return (now: () => number): BenchStore => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    const prefix = `bench:${Date.now()}:`;
    return {
      store: createRedisPoolStore({ redis, prefix, now }),
      dispose: async () => {
        await redis.unlink(...['alive', 'avail', 'lease', 'holders'].map((k) => `${prefix}${k}`));
        redis.disconnect();
      },
    };
  };
}

/** Runs the benchmark; quick mode stops at 100,000 tokens and fewer operations. */
export async function runPoolBench(opts: { quick: boolean; redisUrl?: string }): Promise<PoolBenchRow[]> {
  const sizes = opts.quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000];
  const ops = opts.quick ? 1_000 : 5_000;
  const redisServer = opts.redisUrl ? undefined : await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'akm-pool-bench-'));
  const rows: PoolBenchRow[] = [];
  try {
    const makers = [
      ['sqlite', sqliteMaker(dir)],
      ['redis', redisMaker(opts.redisUrl ?? redisServer!.url)],
    ] as const;
    for (const [kind, make] of makers) {
      for (const size of sizes) rows.push(await measure(kind, size, make, ops));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await redisServer?.destroy();
  }
  return rows;
}

/** The rows as a text table. */
export function formatPoolBench(rows: PoolBenchRow[]): string {
  const ms = (v: number) => v.toFixed(3);
  const head = ['store', 'tokens', 'fill s', 'pairs/s', 'assign p50/p99 ms', 'unblock p50/p99', 'keep-alive p50/p99', `sweep ${SWEEP_BATCH} p50/p99`];
  const body = rows.map((r) => [
    r.store, r.poolSize.toLocaleString('en'), r.fillSeconds.toFixed(1), Math.round(r.pairsPerSecond).toLocaleString('en'),
    `${ms(r.assignP50)} / ${ms(r.assignP99)}`, `${ms(r.unblockP50)} / ${ms(r.unblockP99)}`,
    `${ms(r.keepAliveP50)} / ${ms(r.keepAliveP99)}`, `${ms(r.sweepP50)} / ${ms(r.sweepP99)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const rows = await runPoolBench({ quick, redisUrl: process.env.REDIS_URL || undefined });
  process.stdout.write(`${formatPoolBench(rows)}\n`);
  if (quick) process.stdout.write('quick mode: stopped at 100,000 tokens; run without --quick for 1,000,000\n');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(join('bench/results', `pool-${new Date().toISOString().replaceAll(':', '-')}.json`), JSON.stringify(rows, null, 2));
}
