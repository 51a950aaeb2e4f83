/**
 * The token pool of the issuer: tokens that callers lease one at a time, released when their
 * holder unblocks them or stops keeping them alive, purged when nobody keeps them alive.
 * Named exports only; nothing outside this folder imports its other files.
 *
 * @example
 * migratePool(db); // or let createSqlitePoolStore do it
 * const store = redis ? createRedisPoolStore({ redis, prefix: 'akm:pool:', now }) : createSqlitePoolStore({ db, now });
 * const service = createPoolService({ store, options: poolOptionsFromEnv(env), logger, metrics: createPoolMetrics(registry) });
 * service.start();
 * app.use('/pool', createPoolRouter({ service, requireAdmin, requireCaller }));
 * // on shutdown, after the HTTP server stopped: await service.stop();
 */
export { createRedisPoolStore } from './redis-pool-store.js';
export type { RedisPoolStoreOptions } from './redis-pool-store.js';
export { createSqlitePoolStore } from './sqlite-pool-store.js';
export { createPostgresPoolStore } from './postgres-pool-store.js';
export type { PostgresPoolStoreOptions } from './postgres-pool-store.js';
export type { SqlitePoolStoreOptions } from './sqlite-pool-store.js';
export { migratePool } from './sqlite-pool-schema.js';
export { createPoolService } from './pool-service.js';
export type { PoolFailureCode, PoolOutcome, PoolPrincipal, PoolService, PoolServiceOptions } from './pool-service.js';
export { createPoolRouter, poolTokenView } from './pool-routes.js';
export { poolOperations } from './pool-operations.js';
export type { PoolGuardProblems } from './pool-operations.js';
export type { PoolRouterOptions, PoolTokenView } from './pool-routes.js';
export { createPoolMetrics } from './pool-metrics.js';
export type { PoolMetrics } from './pool-metrics.js';
export { DEFAULT_POOL_OPTIONS, MAX_TOKENS_PER_REQUEST, poolEnvShape, poolOptionsFromEnv } from './pool-options.js';
export type { PoolEnv, PoolOptions } from './pool-options.js';
export type {
  AssignLimits,
  PoolActor,
  PoolCounts,
  PoolEffects,
  PoolTimings,
  PoolToken,
  PoolTokenState,
  PurgedToken,
  ReleasedToken,
  StoreResult,
  SweepResult,
  TokenPoolStore,
} from './pool-store.js';
