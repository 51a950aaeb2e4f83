/**
 * RateLimit header fields of draft-ietf-httpapi-ratelimit-headers (structured-field form of
 * draft 09 and later): `RateLimit-Policy: "burst";q=10;w=1, "default";q=100;w=60` announces
 * every quota of the key (`q` requests per `w` seconds), and `RateLimit: "burst";r=4;t=1` the
 * remaining quota (`r`) and seconds until it resets (`t`) of the one closest to refusing.
 */
import type { RateStanding } from '../domain/rate-limiter.js';

/** The two header fields for a key's current windows. */
export function rateLimitHeaders(standing: RateStanding): Record<string, string> {
  const { windows, window } = standing;
  return {
    'RateLimit-Policy': windows.map((w) => `"${w.name}";q=${w.limit};w=${w.windowSeconds}`).join(', '),
    RateLimit: `"${window.name}";r=${window.remaining};t=${window.resetSeconds}`,
  };
}
