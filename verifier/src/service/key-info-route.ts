/**
 * `GET /key/info`: the caller's own plan. It requires a valid, non-revoked key but does not
 * count against the rate limit (it reads the counter), so a caller over its limit can still
 * learn when its window resets.
 */
import type { IRouter, RequestHandler } from 'express';
import type { z } from 'zod';
import { creditsOf, rateWindowOf, rateWindowsOf, verifiedKeyOf } from '../middleware/protect.js';
import type { keyInfoSchema } from './service-schemas.js';

/** The caller's plan, as `GET /key/info` answers it. */
export type KeyInfo = z.infer<typeof keyInfoSchema>;

/** Adds the key-info route to `router`, behind `guard` (a non-consuming protect), with the verifier's clock. */
export function keyInfoRoute(router: IRouter, guard: RequestHandler, now: () => number): void {
  router.get('/key/info', guard, (_req, res) => {
    const key = verifiedKeyOf(res);
    const window = rateWindowOf(res);
    const resetAt = (seconds: number) => new Date((Math.ceil(now() / 1000) + seconds) * 1000).toISOString();
    const credits = creditsOf(res);
    const info: KeyInfo = {
      id: key.id,
      sub: key.sub,
      role: key.role,
      rateLimit: key.rateLimit,
      limits: rateWindowsOf(res).map((w) => ({
        name: w.name,
        limit: w.limit,
        windowSeconds: w.windowSeconds,
        remaining: w.remaining,
        resetAt: resetAt(w.resetSeconds),
      })),
      scopes: [...key.scopes],
      credits:
        credits === undefined
          ? null
          : {
              remaining: credits.remaining,
              ...(credits.refillSeconds !== undefined && key.credits?.refill
                ? { refill: { ...key.credits.refill }, refillAt: resetAt(credits.refillSeconds) }
                : {}),
            },
      expiresAt: new Date(key.expiresAt * 1000).toISOString(),
      status: key.status,
      remaining: window.remaining,
      resetAt: resetAt(window.resetSeconds),
    };
    res.json(info);
  });
}
