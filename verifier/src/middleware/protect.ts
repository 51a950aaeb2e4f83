/**
 * The Express middleware that guards a route with an API key. The decision (bearer → key
 * verdict → rate limit → role) is the verifier's one access decision; here a refusal becomes
 * one problem+json answer and a pass sets the RateLimit headers and the key for the route.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler, Response } from 'express';
import type { AccessDecider, AccessOptions, CreditStanding } from '../domain/access-decision.js';
import type { RateStanding, RateWindow } from '../domain/rate-limiter.js';
import type { VerifiedKey } from '../domain/verdict.js';
import type { DecisionRecorder } from './decision-log.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { sendRefusal } from './refusal-problems.js';

/** Options of one protected route: the roles allowed, and whether a request counts. */
export type ProtectOptions = AccessOptions;

/** Collaborators of {@link createProtect}. */
export interface ProtectDeps {
  access: AccessDecider;
  record: DecisionRecorder;
}

const KEY = 'akmApiKey';
const WINDOW = 'akmRateWindow';
const CREDITS = 'akmCredits';

/** The key that was let through by the protecting middleware. */
export function verifiedKeyOf(res: Response): VerifiedKey {
  const key = res.locals[KEY] as VerifiedKey | undefined;
  if (!key) throw new Error('verifiedKeyOf: the route is not protected by the verifier middleware');
  return key;
}

/** The rate-limit window closest to refusing of the key that was let through. */
export function rateWindowOf(res: Response): RateWindow {
  return (res.locals[WINDOW] as RateStanding).window;
}

/** What is left of the credits of the key that was let through; undefined for a key without credits. */
export function creditsOf(res: Response): CreditStanding | undefined {
  return res.locals[CREDITS] as CreditStanding | undefined;
}

/** Every rate-limit window of the key that was let through, one per limit. */
export function rateWindowsOf(res: Response): readonly RateWindow[] {
  return (res.locals[WINDOW] as RateStanding).windows;
}

/** Creates the factory of protecting middleware over a verifier's access decision. */
export function createProtect(deps: ProtectDeps): (options?: ProtectOptions) => RequestHandler {
  return (options = {}) =>
    async function protect(req, res, next) {
      const started = performance.now();
      const decision = await deps.access.decide(req.get('authorization'), options);
      deps.record(req, res, started, decision);
      if (!decision.ok) return sendRefusal(res, decision);
      const headers = rateLimitHeaders(decision);
      for (const name in headers) res.setHeader(name, headers[name] as string);
      res.locals[KEY] = decision.key;
      res.locals[WINDOW] = { window: decision.window, windows: decision.windows } satisfies RateStanding;
      res.locals[CREDITS] = decision.credits;
      next();
    };
}
