/**
 * The token pool on SQLite (the embedded default): every operation is one `BEGIN IMMEDIATE`
 * transaction, so processes sharing the file (WAL mode, a busy timeout) take turns and never
 * see a token half-changed. Each statement is an index seek; see `sqlite-pool-schema.ts`.
 */
import type Database from 'better-sqlite3';
import { AppError } from '@akm/common';
import {
  ASSIGN_MAX_PICKS,
  LAZY_SWEEP_LIMIT,
  type PoolEffects,
  type PoolToken,
  type StoreResult,
  type TokenPoolStore,
} from './pool-store.js';
import { POOL_TOKEN_COLUMNS, toPoolToken as toToken, type PoolTokenRow as Row } from './pool-token-row.js';
import { migratePool } from './sqlite-pool-schema.js';

/** Options of {@link createSqlitePoolStore}. */
export interface SqlitePoolStoreOptions {
  /** An open database, ideally in WAL mode with a busy timeout; the store creates its tables. */
  db: Database.Database;
  /** The clock, milliseconds since epoch. */
  now: () => number;
  /** Random number in [0, 1) for the pick; `Math.random` by default. */
  random?: () => number;
  /**
   * Runs each operation's transaction in its turn when the connection is shared with work whose
   * transactions span awaits (the issuer's other repositories: `SqliteClient.exclusive`).
   * By default an operation runs at once.
   */
  exclusive?: <T>(work: () => T) => Promise<T>;
}



/** Creates the SQLite implementation of {@link TokenPoolStore}. */
export function createSqlitePoolStore(options: SqlitePoolStoreOptions): TokenPoolStore {
  const { db, now } = options;
  const random = options.random ?? Math.random;
  const inTurn = options.exclusive ?? (async <T>(work: () => T) => work());
  migratePool(db);
    const sql = {
    byToken: db.prepare<[string], Row>(`SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE token = ?`),
    duePurges: db.prepare<[number, number], Row>(
      `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE alive_until <= ? ORDER BY alive_until LIMIT ?`,
    ),
    dueReleases: db.prepare<[number, number], Row>(
      `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE assigned_until IS NOT NULL AND assigned_until <= ?
       ORDER BY assigned_until LIMIT ?`,
    ),
    // INDEXED BY: the rowid search would walk over assigned rows; the partial index skips them.
    freeFrom: db.prepare<[number], Row>(
      `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens INDEXED BY pool_tokens_free
       WHERE holder IS NULL AND id >= ? ORDER BY id LIMIT 1`,
    ),
    // The holder's leases that are due (or whose token is), to apply before counting.
    heldDue: db.prepare<[string, number, number], Row>(
      `SELECT ${POOL_TOKEN_COLUMNS} FROM pool_tokens WHERE holder = ? AND (assigned_until <= ? OR alive_until <= ?)`,
    ),
    // Counted by reading at most the cap's worth of index entries.
    heldUpTo: db.prepare<[string, number], { id: number }>('SELECT id FROM pool_tokens WHERE holder = ? LIMIT ?'),
    maxId: db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM pool_tokens'),
    insert: db.prepare<[string, number]>('INSERT INTO pool_tokens (token, alive_until) VALUES (?, ?)'),
    remove: db.prepare<[number]>('DELETE FROM pool_tokens WHERE id = ?'),
    setHolder: db.prepare<[string | null, number | null, number]>(
      'UPDATE pool_tokens SET holder = ?, assigned_until = ? WHERE id = ?',
    ),
    extendAlive: db.prepare<[number, number]>('UPDATE pool_tokens SET alive_until = max(alive_until, ?) WHERE id = ?'),
    extendLease: db.prepare<[number, number]>(
      'UPDATE pool_tokens SET assigned_until = max(assigned_until, ?) WHERE id = ?',
    ),
    counts: db.prepare<[], { total: number; assigned: number }>('SELECT total, assigned FROM pool_counts WHERE id = 1'),
  };

  /** Runs `body` in one immediate transaction, collecting the deadlines it applies. */
  async function atomically<T>(body: (at: number, effects: PoolEffects) => T): Promise<T & { effects: PoolEffects }> {
    try {
      return await inTurn(() =>
        db
          .transaction(() => {
            const effects: PoolEffects = { released: [], purged: [] };
            return { ...body(now(), effects), effects };
          })
          .immediate(),
      );
    } catch (err) {
      // Another process held the write lock past the busy timeout: a 503 the caller may retry.
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new AppError('storage_failed', 'the token pool store is busy', { cause: err });
      }
      throw err;
    }
  }

  function purge(row: Row, effects: PoolEffects): void {
    sql.remove.run(row.id);
    effects.purged.push({ token: row.token, holder: row.holder });
  }

  function release(row: Row, effects: PoolEffects): void {
    sql.setHolder.run(null, null, row.id);
    effects.released.push({ token: row.token, holder: String(row.holder) });
  }

  /** The token after its due deadlines, or undefined if it is not (or no longer) in the pool. */
  function settle(token: string, at: number, effects: PoolEffects): Row | undefined {
    const row = sql.byToken.get(token);
    if (!row) return undefined;
    if (row.alive_until <= at) return void purge(row, effects);
    if (row.assigned_until !== null && row.assigned_until <= at) {
      release(row, effects);
      return { ...row, holder: null, assigned_until: null };
    }
    return row;
  }

  function sweep(at: number, limit: number, effects: PoolEffects): boolean {
    const purges = sql.duePurges.all(at, limit);
    for (const row of purges) purge(row, effects);
    const releases = sql.dueReleases.all(at, limit);
    for (const row of releases) release(row, effects);
    return purges.length >= limit || releases.length >= limit;
  }

  /** A random available row: a random rowid, then the next free one (wrapping around). */
  function pickFree(): Row | undefined {
    const max = sql.maxId.get()?.id ?? 0;
    if (max === 0) return undefined;
    return sql.freeFrom.get(1 + Math.floor(random() * max)) ?? sql.freeFrom.get(0);
  }

  return {
    async addTokens(tokens, limits) {
      return atomically((at, effects): StoreResult<{ size: number }, 'pool_full' | 'duplicate'> => {
        sweep(at, LAZY_SWEEP_LIMIT, effects);
        const size = sql.counts.get()?.total ?? 0;
        if (size + tokens.length > limits.maxTokens) return { ok: false, reason: 'pool_full', effects };
        if (new Set(tokens).size !== tokens.length || tokens.some((t) => sql.byToken.get(t))) {
          return { ok: false, reason: 'duplicate', effects };
        }
        for (const token of tokens) sql.insert.run(token, at + limits.keepAliveMs);
        return { ok: true, value: { size: size + tokens.length }, effects };
      });
    },
    async assign(holder, timings, limits) {
      return atomically((at, effects): StoreResult<PoolToken, 'pool_empty' | 'holder_limit'> => {
        sweep(at, LAZY_SWEEP_LIMIT, effects);
        // Only live leases count: the holder's due ones are applied first (a few rows: its own).
        for (const row of sql.heldDue.all(holder, at, at)) {
          if (row.alive_until <= at) purge(row, effects);
          else release(row, effects);
        }
        if (sql.heldUpTo.all(holder, limits.maxPerHolder).length >= limits.maxPerHolder) {
          return { ok: false, reason: 'holder_limit', effects };
        }
        for (let pick = 0; pick < ASSIGN_MAX_PICKS; pick++) {
          const row = pickFree();
          if (!row) break;
          if (row.alive_until <= at) {
            purge(row, effects);
            continue;
          }
          const aliveUntil = Math.max(row.alive_until, at + timings.keepAliveMs);
          sql.setHolder.run(holder, at + timings.assignTtlMs, row.id);
          sql.extendAlive.run(aliveUntil, row.id);
          const value = toToken({ ...row, holder, assigned_until: at + timings.assignTtlMs, alive_until: aliveUntil });
          return { ok: true, value, effects };
        }
        return { ok: false, reason: 'pool_empty', effects };
      });
    },
    async unblock(token, actor) {
      return atomically((at, effects) => {
        const row = settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        if (row.holder === null) return { ok: false as const, reason: 'not_assigned' as const };
        if (row.holder !== actor.sub && !actor.admin) return { ok: false as const, reason: 'forbidden' as const };
        sql.setHolder.run(null, null, row.id);
        const value = { token: toToken({ ...row, holder: null, assigned_until: null }), holder: row.holder };
        return { ok: true as const, value };
      });
    },
    async keepAlive(token, actor, timings) {
      return atomically((at, effects) => {
        const row = settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        if (row.holder !== null && row.holder !== actor.sub && !actor.admin) {
          return { ok: false as const, reason: 'forbidden' as const };
        }
        sql.extendAlive.run(at + timings.keepAliveMs, row.id);
        if (row.holder !== null) sql.extendLease.run(at + timings.assignTtlMs, row.id);
        return { ok: true as const, value: toToken(sql.byToken.get(token) as Row) };
      });
    },
    async remove(token) {
      return atomically((at, effects) => {
        const row = settle(token, at, effects);
        if (!row) return { ok: false as const, reason: 'not_found' as const };
        sql.remove.run(row.id);
        return { ok: true as const, value: { holder: row.holder } };
      });
    },
    async getToken(token) {
      const row = await inTurn(() => sql.byToken.get(token));
      const at = now();
      if (!row || row.alive_until <= at) return undefined;
      const lapsed = row.assigned_until !== null && row.assigned_until <= at;
      return toToken(lapsed ? { ...row, holder: null, assigned_until: null } : row);
    },
    async counts() {
      return atomically((at, effects) => {
        sweep(at, LAZY_SWEEP_LIMIT, effects);
        const { total, assigned } = sql.counts.get() ?? { total: 0, assigned: 0 };
        return { ok: true as const, value: { available: total - assigned, assigned, total } };
      });
    },
    async sweep(limit) {
      const { more, effects } = await atomically((at, applied) => ({ more: sweep(at, limit, applied) }));
      return { ...effects, more };
    },
  };
}
