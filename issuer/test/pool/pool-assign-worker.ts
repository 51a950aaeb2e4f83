/**
 * A separate process that assigns pool tokens, for the multi-process tests:
 * `node --import tsx pool-assign-worker.ts <redis|sqlite|postgres> <url|file> <prefix> <attempts>`.
 * Prints `ready`, waits for `go` on stdin, assigns `attempts` times concurrently and prints
 * `{"tokens":[...],"empty":n}`.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { createPostgresPoolStore, createRedisPoolStore, createSqlitePoolStore, type TokenPoolStore } from '../../src/pool/index.js';
import { createPostgresClient } from '../../src/store/postgres-client.js';

const [kind, target, prefix, attemptsArg] = process.argv.slice(2);
const attempts = Number(attemptsArg);
const timings = { keepAliveMs: 300_000, assignTtlMs: 60_000 };
const closers: (() => unknown)[] = [];

function stores(): TokenPoolStore[] {
  if (kind === 'redis') {
    return Array.from({ length: 4 }, () => {
      const redis = new Redis(String(target), { maxRetriesPerRequest: 1 });
      closers.push(() => redis.disconnect());
      return createRedisPoolStore({ redis, prefix: String(prefix), now: Date.now });
    });
  }
  if (kind === 'postgres') {
    // Like replicas: each store with a connection pool of its own.
    return Array.from({ length: 3 }, () => {
      const client = createPostgresClient({ url: String(target) });
      closers.push(() => client.close());
      return createPostgresPoolStore({ client, now: Date.now });
    });
  }
  const db = new Database(String(target));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  closers.push(() => db.close());
  return [createSqlitePoolStore({ db, now: Date.now })];
}

const pool = stores();
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
await once(lines, 'line');
const results = await Promise.all(
  Array.from({ length: attempts }, (_, i) => pool[i % pool.length]!.assign(`worker${process.pid}-${i}`, timings, { maxPerHolder: 1 })),
);
process.stdout.write(
  `${JSON.stringify({
    tokens: results.flatMap((r) => (r.ok ? [r.value.token] : [])),
    empty: results.filter((r) => !r.ok).length,
  })}\n`,
);
lines.close();
for (const close of closers) await close();
