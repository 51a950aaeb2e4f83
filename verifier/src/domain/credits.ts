/**
 * A key's credits as the limiter counts them: one more limit, counted under the grant's id (so
 * the keys a roll made share it) and, with a refill, the current day or month (UTC) by the
 * verifier's own clock, so a refill needs no event. Its count is what was granted for the
 * grant's own period, the refill amount for every later one.
 */
import { creditPeriodEnd, creditPeriodOf, type CreditGrant } from '@akm/common';
import type { CountedLimit } from './rate-limiter.js';

/** Name of the credits' window among a request's windows. */
export const CREDITS = 'credits';

/** How long a counter of credits without a refill outlives the key's expiry, seconds. */
const KEEP_AFTER_EXPIRY_SECONDS = 86_400;

/** The credits of a key with `grant`, expiring at `expiresAt` (seconds), at `nowMs`. */
export function creditLimitOf(grant: CreditGrant, expiresAt: number, nowMs: number): CountedLimit & { refills: boolean } {
  const nowS = Math.floor(nowMs / 1000);
  if (!grant.refill) {
    return {
      name: CREDITS,
      limit: grant.remaining,
      // Kept as long as the key may spend them: no counter may expire and give them back.
      windowSeconds: Math.max(1, expiresAt - nowS + KEEP_AFTER_EXPIRY_SECONDS),
      counter: `credits:{${grant.grant}}`,
      refills: false,
    };
  }
  const { interval, amount } = grant.refill;
  const period = creditPeriodOf(interval, nowS);
  return {
    name: CREDITS,
    limit: period === creditPeriodOf(interval, grant.grantedAt) ? grant.remaining : amount,
    windowSeconds: Math.max(1, creditPeriodEnd(interval, period) - nowS),
    counter: `credits:{${grant.grant}}:${interval}:${period}`,
    refills: true,
  };
}
