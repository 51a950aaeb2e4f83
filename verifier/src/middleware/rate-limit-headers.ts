/**
 * RateLimit header fields of draft-ietf-httpapi-ratelimit-headers (structured-field form of
 * draft 09 and later): `RateLimit-Policy: "default";q=100;w=60` announces the quota (`q`
 * requests per `w` seconds) and `RateLimit: "default";r=42;t=17` the remaining quota (`r`)
 * and the seconds until it resets (`t`).
 */
import { RATE_WINDOW_SECONDS, type RateWindow } from '../domain/rate-limiter.js';

/** Name of akm's one policy: each key's own per-minute limit. */
export const RATE_POLICY_NAME = 'default';

/** The two header fields for a key's current window. */
export function rateLimitHeaders(window: RateWindow): Record<string, string> {
  return {
    'RateLimit-Policy': `"${RATE_POLICY_NAME}";q=${window.limit};w=${RATE_WINDOW_SECONDS}`,
    RateLimit: `"${RATE_POLICY_NAME}";r=${window.remaining};t=${window.resetSeconds}`,
  };
}
