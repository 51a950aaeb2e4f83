/**
 * The token pool on Redis: every operation is one Lua script (see `redis-pool-scripts.ts`), so
 * any number of issuer processes sharing one Redis stay consistent.
 */
import type { Redis } from 'ioredis';
import { AppError } from '@akm/common';
import {
  ASSIGN_MAX_PICKS,
  LAZY_SWEEP_LIMIT,
  type PoolEffects,
  type PoolToken,
  type StoreResult,
  type SweepResult,
  type TokenPoolStore,
} from './pool-store.js';
import { POOL_KEYS, POOL_SCRIPTS, type PoolScriptName } from './redis-pool-scripts.js';

/** Options of {@link createRedisPoolStore}. */
export interface RedisPoolStoreOptions {
  /** A connected ioredis client; the store defines its scripts on it and never closes it. */
  redis: Redis;
  /**
   * Prefix of the store's five keys, e.g. `akm:pool:`. On Redis Cluster put a hash tag in it
   * (`akm:{pool}:`) so that the keys share a slot.
   */
  prefix: string;
  /** The clock, milliseconds since epoch; passed to every script. */
  now: () => number;
}

type Json = Record<string, unknown>;
type RunScript = (...args: (string | number)[]) => Promise<string>;

const list = (value: unknown): unknown[][] => (Array.isArray(value) ? (value as unknown[][]) : []);
const orNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function effectsOf(reply: Json): PoolEffects {
  return {
    released: list(reply.released).map(([token, holder]) => ({ token: String(token), holder: String(holder) })),
    purged: list(reply.purged).map(([token, holder]) => ({ token: String(token), holder: orNull(holder) })),
  };
}

function tokenOf(value: Json): PoolToken {
  const holder = orNull(value.holder);
  return {
    token: String(value.token),
    state: holder === null ? 'available' : 'assigned',
    holder,
    assignedUntil: typeof value.assignedUntil === 'number' ? value.assignedUntil : null,
    aliveUntil: Number(value.aliveUntil),
  };
}

function resultOf<T, R extends string>(raw: string, shape: (value: Json) => T): StoreResult<T, R> {
  const reply = JSON.parse(raw) as Json;
  const effects = effectsOf(reply);
  if (reply.ok === true) return { ok: true, value: shape(reply.value as Json), effects };
  return { ok: false, reason: reply.reason as R, effects };
}

/**
 * Redis could not be reached: a 503 the caller may retry. A `ReplyError` (Redis answered, the
 * script failed) is a bug and stays as it is, to be logged in full.
 */
function unavailable(err: unknown): never {
  if ((err as { name?: string }).name === 'ReplyError') throw err;
  throw new AppError('storage_failed', 'the token pool store is unavailable', { cause: err });
}

/** Creates the Redis implementation of {@link TokenPoolStore}. */
export function createRedisPoolStore(options: RedisPoolStoreOptions): TokenPoolStore {
  const { redis, prefix, now } = options;
  const keys = POOL_KEYS.map((k) => `${prefix}${k}`);
  for (const [name, lua] of Object.entries(POOL_SCRIPTS)) redis.defineCommand(name, { numberOfKeys: keys.length, lua });
  const run = (name: PoolScriptName, ...args: (string | number)[]): Promise<string> =>
    (redis as unknown as Record<PoolScriptName, RunScript>)[name](...keys, now(), ...args).catch(unavailable);

  return {
    async addTokens(tokens, limits) {
      const raw = await run('akmPoolAdd', limits.maxTokens, limits.keepAliveMs, LAZY_SWEEP_LIMIT, ...tokens);
      return resultOf(raw, (v) => ({ size: Number(v.size) }));
    },
    async assign(holder, timings, limits) {
      const raw = await run(
        'akmPoolAssign', holder, timings.assignTtlMs, timings.keepAliveMs, LAZY_SWEEP_LIMIT, ASSIGN_MAX_PICKS, limits.maxPerHolder,
      );
      return resultOf(raw, tokenOf);
    },
    async unblock(token, actor) {
      const raw = await run('akmPoolUnblock', token, actor.sub, actor.admin ? '1' : '0');
      return resultOf(raw, (v) => ({ token: tokenOf(v.token as Json), holder: String(v.holder) }));
    },
    async keepAlive(token, actor, timings) {
      const raw = await run('akmPoolKeepAlive', token, actor.sub, actor.admin ? '1' : '0', timings.keepAliveMs, timings.assignTtlMs);
      return resultOf(raw, tokenOf);
    },
    async remove(token) {
      const raw = await run('akmPoolRemove', token);
      return resultOf(raw, (v) => ({ holder: orNull(v.holder) }));
    },
    async getToken(token) {
      const reply = resultOf<PoolToken, 'not_found'>(await run('akmPoolGet', token), tokenOf);
      return reply.ok ? reply.value : undefined;
    },
    async counts() {
      const raw = await run('akmPoolCounts', LAZY_SWEEP_LIMIT);
      return resultOf(raw, (v) => ({ available: Number(v.available), assigned: Number(v.assigned), total: Number(v.total) }));
    },
    async sweep(limit): Promise<SweepResult> {
      const reply = JSON.parse(await run('akmPoolSweep', limit)) as Json;
      return { ...effectsOf(reply), more: reply.more === true };
    },
  };
}
