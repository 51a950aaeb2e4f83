/**
 * The storage contract of the token pool. Two implementations (Redis, SQLite) make every
 * operation atomic and touch O(log n) entries at most; the domain sees only these types.
 *
 * Time: every store reads its own injected clock (milliseconds since epoch). A deadline is
 * due when `deadline <= now`.
 */

/** Whether a token can be assigned (`available`) or is leased to someone (`assigned`). */
export type PoolTokenState = 'available' | 'assigned';

/** A token of the pool as a store reports it. Times are milliseconds since epoch. */
export interface PoolToken {
  token: string;
  state: PoolTokenState;
  /** The `sub` of the holder while assigned. */
  holder: string | null;
  /** When the assignment is released unless unblocked or kept alive first; null while available. */
  assignedUntil: number | null;
  /** When the token is purged unless kept alive first. */
  aliveUntil: number;
}

/** Durations an operation applies, in milliseconds. */
export interface PoolTimings {
  /** How long a keep-alive (or an assignment) keeps a token from being purged. */
  keepAliveMs: number;
  /** How long an assignment lasts without a keep-alive from its holder. */
  assignTtlMs: number;
}

/** Bounds of an assignment. */
export interface AssignLimits {
  /** Most tokens one holder may hold at once; the next assignment answers `holder_limit`. */
  maxPerHolder: number;
}

/** Who acts on a token: its holder may act on an assigned token, and so may an admin. */
export interface PoolActor {
  sub: string;
  admin: boolean;
}

/** An assignment that ended because its deadline passed (or, in `unblocked`, on request). */
export interface ReleasedToken {
  token: string;
  holder: string;
}

/** A token removed because nobody kept it alive. `holder` is set if it was assigned. */
export interface PurgedToken {
  token: string;
  holder: string | null;
}

/**
 * Deadlines a store applied while doing something else (lazily, or in a sweep): the domain logs
 * and counts them like the sweeper's own work.
 */
export interface PoolEffects {
  released: ReleasedToken[];
  purged: PurgedToken[];
}

/** A store answer: a value or an expected failure, plus the deadlines applied on the way. */
export type StoreResult<T, R extends string> = ({ ok: true; value: T } | { ok: false; reason: R }) & {
  effects: PoolEffects;
};

/** How many tokens the pool holds. */
export interface PoolCounts {
  available: number;
  assigned: number;
  total: number;
}

/** What one bounded sweep did; `more` when it hit its limit and due entries may remain. */
export interface SweepResult extends PoolEffects {
  more: boolean;
}

/**
 * Storage of the token pool. Each method is one atomic step (one Lua script, one immediate
 * SQLite transaction), so concurrent callers in any number of processes never see a token in
 * two states. Before answering, a method applies the due deadlines of the token it touches, so
 * what it reports is exact whether or not the sweeper has run.
 */
export interface TokenPoolStore {
  /**
   * Adds new, available tokens, all or none: `pool_full` if the pool would then hold more than
   * `maxTokens`, `duplicate` if one of them is already in the pool.
   */
  addTokens(
    tokens: readonly string[],
    limits: { maxTokens: number; keepAliveMs: number },
  ): Promise<StoreResult<{ size: number }, 'pool_full' | 'duplicate'>>;
  /**
   * Leases a random available token to `holder`: `holder_limit` if it already holds
   * `limits.maxPerHolder` tokens (leases past their deadline do not count: they are released
   * first), else `pool_empty` if none is available. The check and the lease are one atomic step.
   */
  assign(holder: string, timings: PoolTimings, limits: AssignLimits): Promise<StoreResult<PoolToken, 'pool_empty' | 'holder_limit'>>;
  /** Ends the assignment of a token; only its holder or an admin may. Answers the former holder. */
  unblock(
    token: string,
    actor: PoolActor,
  ): Promise<StoreResult<{ token: PoolToken; holder: string }, 'not_found' | 'not_assigned' | 'forbidden'>>;
  /**
   * Postpones the purge of a token; on an assigned token (holder or admin only) it also extends
   * the assignment by `assignTtlMs`.
   */
  keepAlive(
    token: string,
    actor: PoolActor,
    timings: PoolTimings,
  ): Promise<StoreResult<PoolToken, 'not_found' | 'forbidden'>>;
  /** Removes a token, assigned or not. Answers its holder, if it had one. */
  remove(token: string): Promise<StoreResult<{ holder: string | null }, 'not_found'>>;
  /** Reads a token as of now, without changing anything. */
  getToken(token: string): Promise<PoolToken | undefined>;
  /** Counts the tokens, after applying a few due deadlines. */
  counts(): Promise<StoreResult<PoolCounts, never>>;
  /** Applies at most `limit` due purges and `limit` due releases, earliest first. */
  sweep(limit: number): Promise<SweepResult>;
}

/** Lazy work an operation does before its own: few enough to keep it O(log n). */
export const LAZY_SWEEP_LIMIT = 8;
/** Due tokens an assignment may skip (and purge) before it answers `pool_empty`. */
export const ASSIGN_MAX_PICKS = 16;

/** No deadlines applied. */
export function noEffects(): PoolEffects {
  return { released: [], purged: [] };
}
