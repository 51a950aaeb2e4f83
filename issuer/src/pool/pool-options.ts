/**
 * Settings of the token pool and the environment variables they come from. The issuer's
 * config merges {@link poolEnvShape} into its env schema and passes {@link poolOptionsFromEnv}
 * of the result to `createPoolService`.
 */
import { z } from 'zod';
import { positiveIntVar } from '@akm/common';

/** Settings of the token pool. */
export interface PoolOptions {
  /** Most tokens the pool may hold; generating beyond it answers `pool_full`. */
  maxTokens: number;
  /** Most tokens one holder (`sub`) may hold at once; its next assignment answers `holder_limit`. */
  maxPerHolder: number;
  /** Seconds a token lives after its last keep-alive (or generation, or assignment). */
  keepAliveSeconds: number;
  /** Seconds an assignment lasts after it began or its holder last kept the token alive. */
  assignTtlSeconds: number;
  /** Milliseconds between two sweeps when nothing is due. */
  sweepIntervalMs: number;
  /** Most purges, and most releases, one sweep applies. */
  sweepBatch: number;
}

/** Defaults of {@link PoolOptions}. */
export const DEFAULT_POOL_OPTIONS: Readonly<PoolOptions> = {
  maxTokens: 10_000,
  maxPerHolder: 10,
  keepAliveSeconds: 300,
  assignTtlSeconds: 60,
  sweepIntervalMs: 1000,
  sweepBatch: 500,
};

/** Most tokens one `POST /pool/tokens` may generate. */
export const MAX_TOKENS_PER_REQUEST = 10_000;

/** The pool's environment variables, to spread into the issuer's `z.object({...})`. */
export const poolEnvShape = {
  POOL_MAX_TOKENS: positiveIntVar(DEFAULT_POOL_OPTIONS.maxTokens),
  POOL_MAX_PER_HOLDER: positiveIntVar(DEFAULT_POOL_OPTIONS.maxPerHolder),
  POOL_KEEPALIVE_S: positiveIntVar(DEFAULT_POOL_OPTIONS.keepAliveSeconds),
  POOL_ASSIGN_TTL_S: positiveIntVar(DEFAULT_POOL_OPTIONS.assignTtlSeconds),
  POOL_SWEEP_INTERVAL_MS: positiveIntVar(DEFAULT_POOL_OPTIONS.sweepIntervalMs),
  POOL_SWEEP_BATCH: positiveIntVar(DEFAULT_POOL_OPTIONS.sweepBatch),
};

/** The pool's environment variables as parsed by a schema built from {@link poolEnvShape}. */
export type PoolEnv = z.infer<z.ZodObject<typeof poolEnvShape>>;

/** The pool settings of parsed environment variables. */
export function poolOptionsFromEnv(env: PoolEnv): PoolOptions {
  return {
    maxTokens: env.POOL_MAX_TOKENS,
    maxPerHolder: env.POOL_MAX_PER_HOLDER,
    keepAliveSeconds: env.POOL_KEEPALIVE_S,
    assignTtlSeconds: env.POOL_ASSIGN_TTL_S,
    sweepIntervalMs: env.POOL_SWEEP_INTERVAL_MS,
    sweepBatch: env.POOL_SWEEP_BATCH,
  };
}
