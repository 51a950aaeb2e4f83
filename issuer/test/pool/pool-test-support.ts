/**
 * What the pool tests share: a clock the test moves, principals, and stores on a fresh SQLite
 * file, a fresh Redis key prefix or a fresh PostgreSQL database (never shared between tests).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import {
  createPostgresPoolStore,
  createRedisPoolStore,
  createSqlitePoolStore,
  type PoolPrincipal,
  type TokenPoolStore,
} from '../../src/pool/index.js';
import { createPostgresClient, type PostgresClient } from '../../src/store/postgres-client.js';
import { migratePostgres } from '../../src/store/postgres-schema.js';

/** A clock that only moves when the test says so. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

/** A test clock starting at a fixed instant. */
export function createTestClock(start = Date.UTC(2030, 0, 1)): TestClock {
  let at = start;
  return {
    now: () => at,
    advance(ms) {
      at += ms;
    },
  };
}

/** A user principal. */
export const user = (sub: string): PoolPrincipal => ({ sub, role: 'user', kind: 'api_key' });
/** An admin principal. */
export const admin = (sub = 'root'): PoolPrincipal => ({ sub, role: 'admin', kind: 'session' });

/** Opens a SQLite file the way the issuer does (WAL, busy timeout). */
export function openTestDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Makes SQLite stores on fresh files in one temp dir; `cleanup()` closes and removes them. */
export function sqliteStores() {
  const dir = mkdtempSync(join(tmpdir(), 'akm-pool-'));
  const dbs: Database.Database[] = [];
  return {
    dir,
    make(now: () => number, file = join(dir, `${randomUUID()}.sqlite`)): TokenPoolStore {
      const db = openTestDb(file);
      dbs.push(db);
      return createSqlitePoolStore({ db, now });
    },
    cleanup() {
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Makes Redis stores on fresh key prefixes; `cleanup()` closes their clients. */
export function redisStores(url: () => string) {
  const clients: Redis[] = [];
  return {
    client(): Redis {
      const client = new Redis(url(), { maxRetriesPerRequest: 1 });
      // Outage tests read the store's answers; the client's own reconnect errors are noise.
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    make(now: () => number, prefix = `test:${randomUUID()}:`): TokenPoolStore {
      return createRedisPoolStore({ redis: this.client(), prefix, now });
    },
    cleanup() {
      for (const client of clients) client.disconnect();
    },
  };
}

/** Makes PostgreSQL stores, each on the migrated database at a URL; `cleanup()` closes their clients. */
export function postgresStores() {
  const clients: PostgresClient[] = [];
  return {
    async make(now: () => number, url: string): Promise<TokenPoolStore> {
      const client = createPostgresClient({ url });
      clients.push(client);
      await migratePostgres(client);
      return createPostgresPoolStore({ client, now });
    },
    async cleanup() {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
