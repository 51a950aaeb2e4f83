/**
 * The token pool in PostgreSQL, for issuers that share a database (`DATABASE_URL`) and no Redis.
 * Every operation is one transaction that first takes the pool's transaction-scoped advisory
 * lock, so operations from any number of replicas take turns exactly as SQLite's `BEGIN
 * IMMEDIATE` makes them (a token is never in two states, the per-holder cap holds); each
 * statement is an index seek (the tables are in the issuer's PostgreSQL migrations).
 */
import type { SqlClient } from '../store/sql-client.js';
import {
  ASSIGN_MAX_PICKS,
  LAZY_SWEEP_LIMIT,
  type PoolEffects,
  type PoolToken,
  type StoreResult,
  type TokenPoolStore,
} from './pool-store.js';
import { POOL_TOKEN_COLUMNS, toPoolToken as toToken, type PoolTokenRow as Row } from './pool-token-row.js';

/** Options of {@link createPostgresPoolStore}. */
export interface PostgresPoolStoreOptions {
  /** The issuer's PostgreSQL client (its migrations created the pool's tables). */
  client: SqlClient;
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /** Random number in [0, 1) for the pick; `Math.random` by default. */
  random?: () => number;
}


/** Advisory lock key of the pool's operations. */
const POOL_LOCK = 0x616b6d02;


/** Creates the PostgreSQL implementation of {@link TokenPoolStore}. */
export function createPostgresPoolStore(options: PostgresPoolStoreOptions): TokenPoolStore {
  const { client: db, now } = options;
  const random = options.random ?? Math.random;
  const byToken = (token: string) => db.get<Row>(`SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE token = ?`, [token]);

  /** Runs `body` in one transaction holding the pool lock, collecting the deadlines it applies. */
  async function atomically<T>(body: (at: number, effects: PoolEffects) => Promise<T>): Promise<T & { effects: PoolEffects }> {
    return db.transaction(async () => {
      await db.get('SELECT pg_advisory_xact_lock(?)', [POOL_LOCK]);
      const effects: PoolEffects = { released: [], purged: [] };
      return { ...(await body(now(), effects)), effects };
    });
  }

  async function purge(row: Row, effects: PoolEffects): Promise<void> {
    await db.run('DELETE FROM pool_tokens WHERE id = ?', [row.id]);
    effects.purged.push({ token: row.token, holder: row.holder });
  }

  async function release(row: Row, effects: PoolEffects): Promise<void> {
    await db.run('UPDATE pool_tokens SET holder = NULL, assigned_until = NULL WHERE id = ?', [row.id]);
    effects.released.push({ token: row.token, holder: String(row.holder) });
  }

  /** The token after its due deadlines, or undefined if it is not (or no longer) in the pool. */
  async function settle(token: string, at: number, effects: PoolEffects): Promise<Row | undefined> {
    const row = await byToken(token);
    if (!row) return undefined;
    if (row.alive_until <= at) return void (await purge(row, effects));
    if (row.assigned_until !== null && row.assigned_until <= at) {
      await release(row, effects);
      return { ...row, holder: null, assigned_until: null };
    }
    return row;
  }

  async function sweep(at: number, limit: number, effects: PoolEffects): Promise<boolean> {
    const purges = await db.all<Row>(`SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE alive_until <= ? ORDER BY alive_until LIMIT ?`, [at, limit]);
    for (const row of purges) await purge(row, effects);
    const releases = await db.all<Row>(
      `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE assigned_until IS NOT NULL AND assigned_until <= ? ORDER BY assigned_until LIMIT ?`,
      [at, limit],
    );
    for (const row of releases) await release(row, effects);
    return purges.length >= limit || releases.length >= limit;
  }

  /** A random available row: a random id, then the next free one (wrapping around). */
  async function pickFree(): Promise<Row | undefined> {
    const max = (await db.get<{ id: number | null }>('SELECT max(id) AS id FROM pool_tokens'))?.id ?? 0;
    if (max === 0) return undefined;
    const freeFrom = (id: number) =>
      db.get<Row>(`SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE holder IS NULL AND id >= ? ORDER BY id LIMIT 1`, [id]);
    return (await freeFrom(1 + Math.floor(random() * max))) ?? (await freeFrom(0));
  }

  const counted = async () =>
    (await db.get<{ total: number; assigned: number }>('SELECT total, assigned FROM pool_counts WHERE id = 1')) ?? { total: 0, assigned: 0 };

  return {
    async addTokens(tokens, limits) {
      return atomically(async (at, effects): Promise<StoreResult<{ size: number }, 'pool_full' | 'duplicate'>> => {
        await sweep(at, LAZY_SWEEP_LIMIT, effects);
        const size = (await counted()).total;
        if (size + tokens.length > limits.maxTokens) return { ok: false, reason: 'pool_full', effects };
        const known = await db.get('SELECT 1 AS one FROM pool_tokens WHERE token = ANY(?::text[])', [toTextArray(tokens)]);
        if (new Set(tokens).size !== tokens.length || known) return { ok: false, reason: 'duplicate', effects };
        for (const token of tokens) await db.run('INSERT INTO pool_tokens (token, alive_until) VALUES (?, ?)', [token, at + limits.keepAliveMs]);
        return { ok: true, value: { size: size + tokens.length }, effects };
      });
    },
    async assign(holder, timings, limits) {
      return atomically(async (at, effects): Promise<StoreResult<PoolToken, 'pool_empty' | 'holder_limit'>> => {
        await sweep(at, LAZY_SWEEP_LIMIT, effects);
        // Only live leases count: the holder's due ones are applied first (a few rows: its own).
        const due = await db.all<Row>(
          `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE holder = ? AND (assigned_until <= ? OR alive_until <= ?)`,
          [holder, at, at],
        );
        for (const row of due) {
          if (row.alive_until <= at) await purge(row, effects);
          else await release(row, effects);
        }
        const held = await db.all('SELECT id FROM pool_tokens WHERE holder = ? LIMIT ?', [holder, limits.maxPerHolder]);
        if (held.length >= limits.maxPerHolder) return { ok: false, reason: 'holder_limit', effects };
        for (let pick = 0; pick < ASSIGN_MAX_PICKS; pick++) {
          const row = await pickFree();
          if (!row) break;
          if (row.alive_until <= at) {
            await purge(row, effects);
            continue;
          }
          const aliveUntil = Math.max(row.alive_until, at + timings.keepAliveMs);
          const assignedUntil = at + timings.assignTtlMs;
          await db.run('UPDATE pool_tokens SET holder = ?, assigned_until = ?, alive_until = ? WHERE id = ?', [
            holder, assignedUntil, aliveUntil, row.id,
          ]);
          return { ok: true, value: toToken({ ...row, holder, assigned_until: assignedUntil, alive_until: aliveUntil }), effects };
        }
        return { ok: false, reason: 'pool_empty', effects };
      });
    },
    async unblock(token, actor) {
      return atomically(async (at, effects) => {
        const row = await settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        if (row.holder === null) return { ok: false as const, reason: 'not_assigned' as const };
        if (row.holder !== actor.sub && !actor.admin) return { ok: false as const, reason: 'forbidden' as const };
        await db.run('UPDATE pool_tokens SET holder = NULL, assigned_until = NULL WHERE id = ?', [row.id]);
        return { ok: true as const, value: { token: toToken({ ...row, holder: null, assigned_until: null }), holder: row.holder } };
      });
    },
    async keepAlive(token, actor, timings) {
      return atomically(async (at, effects) => {
        const row = await settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        if (row.holder !== null && row.holder !== actor.sub && !actor.admin) return { ok: false as const, reason: 'forbidden' as const };
        await db.run('UPDATE pool_tokens SET alive_until = GREATEST(alive_until, ?) WHERE id = ?', [at + timings.keepAliveMs, row.id]);
        if (row.holder !== null) {
          await db.run('UPDATE pool_tokens SET assigned_until = GREATEST(assigned_until, ?) WHERE id = ?', [at + timings.assignTtlMs, row.id]);
        }
        return { ok: true as const, value: toToken((await byToken(token)) as Row) };
      });
    },
    async remove(token) {
      return atomically(async (at, effects) => {
        const row = await settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        await db.run('DELETE FROM pool_tokens WHERE id = ?', [row.id]);
        return { ok: true as const, value: { holder: row.holder } };
      });
    },
    async getToken(token) {
      const row = await byToken(token);
      const at = now();
      if (!row || row.alive_until <= at) return undefined;
      const lapsed = row.assigned_until !== null && row.assigned_until <= at;
      return toToken(lapsed ? { ...row, holder: null, assigned_until: null } : row);
    },
    async counts() {
      return atomically(async (at, effects) => {
        await sweep(at, LAZY_SWEEP_LIMIT, effects);
        const { total, assigned } = await counted();
        return { ok: true as const, value: { available: total - assigned, assigned, total } };
      });
    },
    async sweep(limit) {
      const { more, effects } = await atomically(async (at, applied) => ({ more: await sweep(at, limit, applied) }));
      return { ...effects, more };
    },
  };
}

/** A PostgreSQL array literal of text values (bound as one parameter). */
function toTextArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

