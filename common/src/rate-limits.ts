/**
 * A key's rate limits: up to {@link MAX_RATE_LIMITS} named fixed windows at once (a burst per
 * second and a quota per day, say). A request is served only if every limit allows it, and then
 * counts against all of them. `rateLimit: N` is shorthand for one limit named `default` of N
 * requests per 60 seconds, which is what every key had before several limits.
 */
import { z } from 'zod';

/** Most limits on one key. */
export const MAX_RATE_LIMITS = 5;
/** Shortest window, seconds. */
export const MIN_WINDOW_SECONDS = 1;
/** Longest window, seconds (31 days). */
export const MAX_WINDOW_SECONDS = 31 * 86_400;
/** Most requests one limit may allow in its window. */
export const MAX_LIMIT = 1_000_000_000;
/** Name of the limit `rateLimit` stands for. */
export const DEFAULT_LIMIT_NAME = 'default';
/** Window of the limit `rateLimit` stands for, seconds. */
export const DEFAULT_WINDOW_SECONDS = 60;

/** One limit: at most `limit` requests per fixed window of `windowSeconds`. */
export interface RateLimitSpec {
  /** Lower-case letters, digits, `_` and `-` (it names the policy in the RateLimit header fields). */
  name: string;
  /** Requests allowed per window. */
  limit: number;
  /** Length of the window, seconds. */
  windowSeconds: number;
}

/** Schema of one limit. */
export const rateLimitSpecSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, '1-32 lower-case letters, digits, _ and -, starting with a letter or digit')
      .meta({ description: 'Names the limit (and its policy in `RateLimit-Policy`).', example: 'burst' }),
    limit: z.number().int().min(1).max(MAX_LIMIT).meta({ description: 'Requests allowed per window.', example: 10 }),
    windowSeconds: z
      .number()
      .int()
      .min(MIN_WINDOW_SECONDS)
      .max(MAX_WINDOW_SECONDS)
      .meta({ description: `Length of the fixed window, seconds (${MIN_WINDOW_SECONDS} to ${MAX_WINDOW_SECONDS}, 31 days).`, example: 1 }),
  })
  .meta({ id: 'RateLimitSpec' });

/** Schema of a key's limits: 1 to {@link MAX_RATE_LIMITS}, each name once. */
export const rateLimitsSchema = z
  .array(rateLimitSpecSchema)
  .min(1)
  .max(MAX_RATE_LIMITS)
  .refine((limits) => new Set(limits.map((l) => l.name)).size === limits.length, 'each limit name once');

/** The one per-minute limit `rateLimit` stands for. */
export function defaultLimits(rateLimit: number): RateLimitSpec[] {
  return [{ name: DEFAULT_LIMIT_NAME, limit: rateLimit, windowSeconds: DEFAULT_WINDOW_SECONDS }];
}

/** Whether `limits` are just the one per-minute limit `rateLimit` stands for (then events and claims omit them). */
export function isDefaultLimits(limits: readonly RateLimitSpec[], rateLimit: number): boolean {
  const [only] = limits;
  return (
    limits.length === 1 &&
    only!.name === DEFAULT_LIMIT_NAME &&
    only!.windowSeconds === DEFAULT_WINDOW_SECONDS &&
    only!.limit === rateLimit
  );
}

/** How often credits are refilled. */
export const CREDIT_INTERVALS = ['day', 'month'] as const;
export type CreditInterval = (typeof CREDIT_INTERVALS)[number];

/** Most credits a key may hold. */
export const MAX_CREDITS = 1_000_000_000;

/** A key's credits as the API takes them: what is left now, and an optional refill. */
export const creditsSchema = z
  .strictObject({
    remaining: z.number().int().min(0).max(MAX_CREDITS).meta({ description: 'Requests the key may still make (each served request spends one).', example: 1000 }),
    refill: z
      .strictObject({
        amount: z.number().int().min(1).max(MAX_CREDITS).meta({ description: 'What is left after each refill.', example: 1000 }),
        interval: z.enum(CREDIT_INTERVALS).meta({ description: 'Refilled at the start of every UTC day or month.' }),
      })
      .optional(),
  })
  .meta({ id: 'Credits' });

/** A key's credits as the API takes them. */
export type CreditsInput = z.infer<typeof creditsSchema>;

/**
 * A grant of credits, as events carry it: `remaining` as of `grantedAt` (seconds since epoch),
 * spent under the id `grant` (a new grant starts a new count), refilled to `refill.amount` at
 * the start of each later day or month (UTC).
 */
export const creditGrantSchema = creditsSchema
  .extend({
    grantedAt: z.number().int().positive().meta({ description: 'When the grant was made, seconds since epoch.' }),
    grant: z.string().min(1).max(64).meta({ description: 'Id of the grant: requests are counted against it from zero.' }),
  })
  .meta({ id: 'CreditGrant' });

/** A grant of credits. */
export type CreditGrant = z.infer<typeof creditGrantSchema>;

/** The refill period (day or month, UTC) that `seconds` (since epoch) falls in, as a number. */
export function creditPeriodOf(interval: CreditInterval, seconds: number): number {
  if (interval === 'day') return Math.floor(seconds / 86_400);
  const d = new Date(seconds * 1000);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** When the refill period after `period` starts, seconds since epoch. */
export function creditPeriodEnd(interval: CreditInterval, period: number): number {
  if (interval === 'day') return (period + 1) * 86_400;
  return Date.UTC(Math.floor((period + 1) / 12), (period + 1) % 12, 1) / 1000;
}
