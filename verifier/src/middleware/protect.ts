/**
 * The Express middleware that guards a route with an API key: bearer → key verdict → rate
 * limit → role. Every refusal is data until here, where it becomes one problem+json answer;
 * each decision is counted, timed and logged with the key id (never the key string).
 */
import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { addRequestLogFields, readBearer, requestIdOf, sendProblem, type Logger, type Role } from '@akm/common';
import type { KeyVerifier } from '../domain/key-verifier.js';
import type { RateLimiter, RateWindow } from '../domain/rate-limiter.js';
import type { UsageTally } from '../domain/usage-tally.js';
import type { Outcome, Refusal, VerifiedKey } from '../domain/verdict.js';
import type { VerifierMetrics } from '../verifier-metrics.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { problemFor } from './refusal-problems.js';

/** Options of one protected route. */
export interface ProtectOptions {
  /** Roles allowed on the route; any role when omitted. */
  roles?: readonly Role[];
  /**
   * Whether the request counts against the key's rate limit. Default true. When false the
   * counter is only read (the headers still show it) and an exhausted key is not refused.
   */
  consume?: boolean;
}

/** Collaborators of {@link createProtect}. */
export interface ProtectDeps {
  verify: KeyVerifier;
  limiter: RateLimiter;
  metrics: VerifierMetrics;
  logger: Logger;
  /** Per-key usage counts, when the verifier reports them. */
  usage?: UsageTally;
}

const KEY = 'akmApiKey';
const WINDOW = 'akmRateWindow';

/** The key that was let through by the protecting middleware. */
export function verifiedKeyOf(res: Response): VerifiedKey {
  const key = res.locals[KEY] as VerifiedKey | undefined;
  if (!key) throw new Error('verifiedKeyOf: the route is not protected by the verifier middleware');
  return key;
}

/** The rate-limit window of the key that was let through. */
export function rateWindowOf(res: Response): RateWindow {
  return res.locals[WINDOW] as RateWindow;
}

/** Creates the factory of protecting middleware over a verifier's collaborators. */
export function createProtect(deps: ProtectDeps): (options?: ProtectOptions) => RequestHandler {
  function record(req: Request, res: Response, started: number, outcome: Outcome, who: { keyId?: string; sub?: string }) {
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.observe(outcome, seconds);
    if (who.keyId !== undefined) deps.usage?.record(who.keyId, outcome);
    const fields = { keyId: who.keyId, sub: who.sub, outcome, latencyMs: seconds * 1000 };
    // One line per request: in an app with akm's request log the decision joins its line (a
    // second JSON line per request cost ~8% of the verifier's CPU); elsewhere it has its own.
    if (addRequestLogFields(res, fields)) return;
    (req.log ?? deps.logger).info({ requestId: requestIdOf(res), ...fields }, 'api key checked');
  }

  return (options = {}) =>
    async function protect(req, res, next) {
      const started = performance.now();
      const refuse = (reason: Refusal, detail: string, who: { keyId?: string; sub?: string } = {}, headers = {}) => {
        record(req, res, started, reason, who);
        const problem = problemFor(reason);
        sendProblem(res, problem.code, detail, { headers: { ...problem.headers, ...headers } });
      };

      const bearer = readBearer(req.get('authorization'));
      if (!bearer.ok) {
        const missing = bearer.reason === 'missing_credentials';
        return refuse(bearer.reason, missing ? 'an API key is required' : 'expected "Authorization: Bearer <key>"');
      }
      const verdict = await deps.verify(bearer.token);
      if (!verdict.ok) return refuse(verdict.reason, verdict.detail, verdict);
      const { key } = verdict;
      const who = { keyId: key.id, sub: key.sub };

      const decision =
        options.consume === false
          ? { allowed: true as const, window: await deps.limiter.peek(key.id, key.rateLimit) }
          : await deps.limiter.consume(key.id, key.rateLimit);
      const headers = rateLimitHeaders(decision.window);
      if (!decision.allowed) {
        const retry = { ...headers, 'Retry-After': String(decision.retryAfterSeconds) };
        return refuse('rate_limited', `over ${key.rateLimit} requests per minute`, who, retry);
      }
      if (options.roles && !options.roles.includes(key.role)) {
        return refuse('forbidden', `role ${key.role} may not use this route`, who, headers);
      }
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.locals[KEY] = key;
      res.locals[WINDOW] = decision.window;
      record(req, res, started, 'ok', who);
      next();
    };
}
