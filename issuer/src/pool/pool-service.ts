/**
 * The token pool's domain: generates tokens, leases them, applies the rules of who may act on
 * a token, and logs and counts every assignment, release and purge. Expected failures are
 * data; the HTTP layer turns them into problems.
 */
import { randomBytes } from 'node:crypto';
import type { Logger, Role } from '@akm/common';
import type { PoolMetrics } from './pool-metrics.js';
import type { PoolOptions } from './pool-options.js';
import type { PoolCounts, PoolEffects, PoolToken, PoolTimings, SweepResult, TokenPoolStore } from './pool-store.js';
import { createSweeper } from './pool-sweeper.js';

/** The authenticated caller, as the auth middlewares set it in `res.locals.principal`. */
export interface PoolPrincipal {
  sub: string;
  role: Role;
  kind: 'session' | 'api_key';
  /** The request's logger, so that the operation's lines carry its request id. */
  log?: Logger;
}

/** Why a pool operation was refused: each is an error code of the HTTP layer. */
export type PoolFailureCode = 'pool_full' | 'pool_empty' | 'holder_limit' | 'not_found' | 'not_assigned' | 'forbidden';

/** An answer of the pool service: a value, or an expected failure with a message. */
export type PoolOutcome<T> = { ok: true; value: T } | { ok: false; code: PoolFailureCode; message: string };

/** Options of {@link createPoolService}. */
export interface PoolServiceOptions {
  /** Where tokens live; it also owns the clock, so the service needs none. */
  store: TokenPoolStore;
  options: PoolOptions;
  logger: Logger;
  metrics: PoolMetrics;
}

/** The token pool's operations and its sweeper's lifecycle. */
export interface PoolService {
  /** Adds `count` new tokens; `pool_full` if the pool would exceed `maxTokens`. */
  generateTokens(count: number, by: PoolPrincipal): Promise<PoolOutcome<string[]>>;
  /**
   * Leases a random available token to the caller; `holder_limit` if the caller already holds
   * `maxPerHolder` tokens, `pool_empty` if there is none.
   */
  assignToken(by: PoolPrincipal): Promise<PoolOutcome<PoolToken>>;
  /** Returns a token to the pool; its holder or an admin only. */
  unblockToken(token: string, by: PoolPrincipal): Promise<PoolOutcome<PoolToken>>;
  /** Keeps a token from being purged and, if assigned, extends its assignment. */
  keepAliveToken(token: string, by: PoolPrincipal): Promise<PoolOutcome<PoolToken>>;
  /** A token's state as of now; its holder or an admin only. */
  getToken(token: string, by: PoolPrincipal): Promise<PoolOutcome<PoolToken>>;
  /** Removes a token, assigned or not. */
  deleteToken(token: string, by: PoolPrincipal): Promise<PoolOutcome<{ holder: string | null }>>;
  /** Counts available and assigned tokens. */
  getStats(): Promise<PoolCounts>;
  /** One bounded sweep of due releases and purges (what the sweeper runs each tick). */
  sweepOnce(): Promise<SweepResult>;
  /** Starts the background sweeper. */
  start(): void;
  /** Stops the background sweeper and waits for its current tick. */
  stop(): Promise<void>;
}

const MESSAGES: Record<PoolFailureCode, string> = {
  pool_full: 'the pool would exceed its maximum size',
  pool_empty: 'no token is available',
  holder_limit: 'the caller holds as many tokens as one holder may; unblock one first',
  not_found: 'no such token in the pool',
  not_assigned: 'the token is not assigned',
  forbidden: 'only the holder of the token or an admin may do this',
};

const fail = (code: PoolFailureCode, message = MESSAGES[code]): { ok: false; code: PoolFailureCode; message: string } => ({
  ok: false,
  code,
  message,
});

/** A new pool token: 144 random bits, URL-safe. */
const newToken = () => `pt_${randomBytes(18).toString('base64url')}`;

/** Creates the pool service; call `start()` to run the sweeper. */
export function createPoolService(options: PoolServiceOptions): PoolService {
  const { store, logger, metrics } = options;
  const settings = options.options;
  const timings: PoolTimings = {
    keepAliveMs: settings.keepAliveSeconds * 1000,
    assignTtlMs: settings.assignTtlSeconds * 1000,
  };
  const actor = (by: PoolPrincipal) => ({ sub: by.sub, admin: by.role === 'admin' });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  /** The caller's request logger (its lines carry the request id), or the service's own. */
  const logOf = (by?: PoolPrincipal) => by?.log ?? logger;

  /** Logs and counts the deadlines a store applied (on the caller's request log, if any). */
  function record(effects: PoolEffects, by?: PoolPrincipal): void {
    const log = logOf(by);
    for (const { token, holder } of effects.released) {
      metrics.released.inc({ reason: 'expired' });
      log.info({ poolToken: token, holder, reason: 'expired' }, 'pool token released');
    }
    for (const { token, holder } of effects.purged) {
      metrics.purged.inc({ reason: 'not_kept_alive' });
      log.info({ poolToken: token, holder, reason: 'not_kept_alive' }, 'pool token purged');
    }
  }

  /** `pool_full`, saying the maximum and how many tokens the pool holds now. */
  async function poolFull(count: number): Promise<{ ok: false; code: PoolFailureCode; message: string }> {
    const counts = await store.counts();
    record(counts.effects);
    const size = counts.ok ? counts.value.total : 0;
    return fail(
      'pool_full',
      `the pool holds ${size} of at most ${settings.maxTokens} tokens (POOL_MAX_TOKENS): ${count} more would exceed it; ` +
        `at most ${Math.max(0, settings.maxTokens - size)} can be added`,
    );
  }

  const service: PoolService = {
    async generateTokens(count, by) {
      if (count > settings.maxTokens) return poolFull(count);
      // A clash of 144 random bits will not happen; retrying keeps "all or none" honest if it did.
      for (let attempt = 0; attempt < 3; attempt++) {
        const tokens = Array.from({ length: count }, newToken);
        const result = await store.addTokens(tokens, { maxTokens: settings.maxTokens, keepAliveMs: timings.keepAliveMs });
        record(result.effects, by);
        if (result.ok) {
          metrics.generated.inc(count);
          logOf(by).info({ count, size: result.value.size, by: by.sub }, 'pool tokens generated');
          return { ok: true, value: tokens };
        }
        if (result.reason === 'pool_full') return poolFull(count);
      }
      throw new Error('pool token generation kept colliding with existing tokens');
    },

    async assignToken(by) {
      const result = await store.assign(by.sub, timings, { maxPerHolder: settings.maxPerHolder });
      record(result.effects, by);
      if (!result.ok) {
        if (result.reason === 'holder_limit') {
          metrics.holderLimitAnswers.inc();
          logOf(by).info({ holder: by.sub, maxPerHolder: settings.maxPerHolder }, 'pool assignment refused: holder limit');
          return { ok: false, code: 'holder_limit', message: `${MESSAGES.holder_limit} (${settings.maxPerHolder})` };
        }
        metrics.emptyAnswers.inc();
        return fail('pool_empty');
      }
      metrics.assigned.inc();
      logOf(by).info(
        { poolToken: result.value.token, holder: by.sub, assignedUntil: iso(result.value.assignedUntil) },
        'pool token assigned',
      );
      return { ok: true, value: result.value };
    },

    async unblockToken(token, by) {
      const result = await store.unblock(token, actor(by));
      record(result.effects, by);
      if (!result.ok) return fail(result.reason);
      metrics.released.inc({ reason: 'unblocked' });
      logOf(by).info({ poolToken: token, holder: result.value.holder, by: by.sub, reason: 'unblocked' }, 'pool token released');
      return { ok: true, value: result.value.token };
    },

    async keepAliveToken(token, by) {
      const result = await store.keepAlive(token, actor(by), timings);
      record(result.effects, by);
      if (!result.ok) return fail(result.reason);
      logOf(by).debug({ poolToken: token, by: by.sub, aliveUntil: iso(result.value.aliveUntil) }, 'pool token kept alive');
      return { ok: true, value: result.value };
    },

    async getToken(token, by) {
      const found = await store.getToken(token);
      if (!found) return fail('not_found');
      if (by.role !== 'admin' && found.holder !== by.sub) return fail('forbidden', 'only the holder of the token or an admin may see it');
      return { ok: true, value: found };
    },

    async deleteToken(token, by) {
      const result = await store.remove(token);
      record(result.effects, by);
      if (!result.ok) return fail(result.reason);
      metrics.purged.inc({ reason: 'deleted' });
      logOf(by).info({ poolToken: token, holder: result.value.holder, by: by.sub, reason: 'deleted' }, 'pool token purged');
      return { ok: true, value: result.value };
    },

    async getStats() {
      const result = await store.counts();
      record(result.effects);
      const counts = result.ok ? result.value : { available: 0, assigned: 0, total: 0 };
      metrics.tokens.set({ state: 'available' }, counts.available);
      metrics.tokens.set({ state: 'assigned' }, counts.assigned);
      return counts;
    },

    async sweepOnce() {
      const result = await store.sweep(settings.sweepBatch);
      record(result);
      if (!result.more) await service.getStats();
      return result;
    },

    start: () => sweeper.start(),
    stop: () => sweeper.stop(),
  };
  const sweeper = createSweeper({ sweepOnce: service.sweepOnce, intervalMs: settings.sweepIntervalMs, logger });
  return service;
}
