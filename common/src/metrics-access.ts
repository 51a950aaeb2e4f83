/**
 * Who may read `/metrics`. Metrics tell how many keys exist, who is refused and why, how busy
 * the pool is: not for anyone who can reach the port.
 *
 * - With a token (`METRICS_TOKEN`): only `Authorization: Bearer <token>`; a scraper anywhere
 *   presents it (Prometheus `authorization: { credentials: … }`).
 * - Without one: only a client on this host, i.e. a loopback peer whose address (`req.ip`, as
 *   `trust proxy` reads it) is loopback too. That keeps `curl localhost:…/metrics` and a local
 *   agent working out of the box, while nothing is served over the network unless the operator
 *   chose a token. Behind a proxy on the same host, set `AKM_TRUST_PROXY` so that the proxy's
 *   clients are seen by their own address (and refused), or set a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { AppError } from './errors.js';
import { readBearer } from './http.js';

/** Options of {@link metricsAccess}. */
export interface MetricsAccessOptions {
  /** The bearer token scrapers must present; unset serves loopback clients only. */
  token?: string | undefined;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** Whether `address` is a loopback address (IPv4 127/8, IPv6 ::1, or 127/8 mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Middleware guarding `/metrics`; see the module comment for the rule. */
export function metricsAccess(options: MetricsAccessOptions): RequestHandler {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return (req, _res, next) => {
    if (!expected) {
      if (isLoopback(req.socket.remoteAddress) && isLoopback(req.ip)) return next();
      throw new AppError('forbidden', 'metrics are served to clients on this host only; set METRICS_TOKEN to scrape from elsewhere');
    }
    const bearer = readBearer(req.get('authorization'));
    if (!bearer.ok) {
      if (bearer.reason === 'missing_credentials') throw new AppError('missing_credentials', 'Authorization: Bearer <METRICS_TOKEN> required');
      throw new AppError('malformed_credentials', 'Authorization header is not "Bearer <token>"');
    }
    // Compared as digests: equal lengths, in constant time.
    if (!timingSafeEqual(digest(bearer.token), expected)) throw new AppError('invalid_token', 'not the metrics token');
    next();
  };
}

/** The `METRICS_TOKEN` variable of a service's env schema: unset, or at least 16 characters. */
export const metricsTokenVar = () =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional());
