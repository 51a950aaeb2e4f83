/**
 * Request shapes of a key's usage and events and of the busiest keys. Unknown parameters are
 * refused, as everywhere in the API.
 */
import { z } from 'zod';
import { isoDate, sequenceCursor } from './key-schemas.js';

const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400 } as const;
/** Longest window of the busiest keys: as long as hourly counts are kept. */
const MAX_WINDOW_SECONDS = 400 * 86_400;

/** Query of `GET /admin/keys/:id/usage` and `GET /me/keys/:id/usage`. */
export const keyUsageQuery = z.strictObject({
  /** Window start, ISO 8601; default 24 hours before `to`. */
  from: isoDate.optional(),
  /** Window end (exclusive), ISO 8601; default now. */
  to: isoDate.optional(),
  /** Period of each item; default by the window's length (minute up to 2 h, hour up to 7 d, else day). */
  granularity: z.enum(['minute', 'hour', 'day']).optional(),
});

/** A window like `30m`, `24h` or `7d`, read as seconds. */
export const windowParam = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[mhd]$/, 'a whole number and a unit, m, h or d: 30m, 24h, 7d')
  .transform((w) => Number(w.slice(0, -1)) * UNIT_SECONDS[w.slice(-1) as keyof typeof UNIT_SECONDS])
  .refine((s) => s <= MAX_WINDOW_SECONDS, 'at most 400d');

/** Query of `GET /admin/usage/top` and `GET /me/usage/top`. */
export const topUsageQuery = z.strictObject({
  /** Rank by requests served, or by requests refused over the rate limit. */
  by: z.enum(['served', 'rate_limited']).default('served'),
  /** The window, ending now. */
  window: windowParam.default(86_400),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

/** Query of `GET /admin/keys/:id/events` and `GET /me/keys/:id/events`. */
export const keyEventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: sequenceCursor.optional(),
});
