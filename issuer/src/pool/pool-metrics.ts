/**
 * Prometheus metrics of the token pool, registered on the registry the caller passes (no
 * global registry).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why an assignment ended. */
export type ReleaseReason = 'unblocked' | 'expired';
/** Why a token left the pool. */
export type PurgeReason = 'not_kept_alive' | 'deleted';

/** The pool's counters and gauges. */
export interface PoolMetrics {
  generated: Counter;
  assigned: Counter;
  emptyAnswers: Counter;
  holderLimitAnswers: Counter;
  released: Counter<'reason'>;
  purged: Counter<'reason'>;
  tokens: Gauge<'state'>;
}

/** Creates the pool metrics on `registry`. */
export function createPoolMetrics(registry: Registry): PoolMetrics {
  const registers = [registry];
  return {
    generated: new Counter({ name: 'akm_pool_tokens_generated_total', help: 'Tokens added to the pool', registers }),
    assigned: new Counter({ name: 'akm_pool_assignments_total', help: 'Tokens assigned', registers }),
    emptyAnswers: new Counter({
      name: 'akm_pool_assign_empty_total',
      help: 'Assignments refused because no token was available',
      registers,
    }),
    holderLimitAnswers: new Counter({
      name: 'akm_pool_assign_holder_limit_total',
      help: 'Assignments refused because the caller already held POOL_MAX_PER_HOLDER tokens',
      registers,
    }),
    released: new Counter({
      name: 'akm_pool_releases_total',
      help: 'Assignments ended, by reason (unblocked, expired)',
      labelNames: ['reason'],
      registers,
    }),
    purged: new Counter({
      name: 'akm_pool_purges_total',
      help: 'Tokens removed, by reason (not_kept_alive, deleted)',
      labelNames: ['reason'],
      registers,
    }),
    tokens: new Gauge({
      name: 'akm_pool_tokens',
      help: 'Tokens in the pool by state (available, assigned), as of the last count',
      labelNames: ['state'],
      registers,
    }),
  };
}
