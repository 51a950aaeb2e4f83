/**
 * How many script runs a Redis server has done (its `INFO commandstats`): the rate limiter
 * counts with scripts, so tests read round trips to Redis from it.
 */
import type { Redis } from 'ioredis';

/** Calls Redis made so far of the commands that run a script. */
export async function scriptCalls(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  let calls = 0;
  for (const m of stats.matchAll(/^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|fcall):calls=(\d+)/gm)) calls += Number(m[2]);
  return calls;
}
