/**
 * The one access decision of the verifier: bearer → key verdict → rate limit → role → scopes. The
 * Express middleware (`protect()`), forward auth (`/auth`) and the verify endpoint
 * (`/v1/verify`) all answer from it, so they can never disagree. Outcomes are data; the HTTP
 * layer turns a refusal into a status.
 */
import { DEFAULT_LIMIT_NAME, readBearer, type Role } from '@akm/common';
import type { KeyVerifier } from './key-verifier.js';
import { CREDITS, creditLimitOf } from './credits.js';
import { closestWindow, refusingWindow, type LimitDecision, type RateLimiter, type RateStanding, type RateWindow } from './rate-limiter.js';
import type { Refusal, VerifiedKey } from './verdict.js';

/** What a decision may take into account besides the key. */
export interface AccessOptions {
  /** Roles allowed; any role when omitted. */
  roles?: readonly Role[];
  /** Scopes the key must all have (`prices:read`); none when omitted. */
  scopes?: readonly string[];
  /**
   * Whether the request counts against the key's rate limit. Default true. When false the
   * counter is only read and an exhausted key is not refused.
   */
  consume?: boolean;
}

/** A refused request: why, in plain words, and what is known of the key and its window. */
export interface AccessRefusal {
  ok: false;
  reason: Refusal;
  /** Plain words for people; never a library's internal code. */
  detail: string;
  /** The key id and owner, once the signature proved them. */
  keyId?: string;
  sub?: string;
  /** The key's window closest to refusing (the refusing one on 429), once its limits were read (429 and 403). */
  window?: RateWindow;
  /** Every window of the key, once its limits were read. */
  windows?: readonly RateWindow[];
  /** The key's credits, once read (a key with credits). */
  credits?: CreditStanding;
  /** Seconds until a rate-limited key may try again. */
  retryAfterSeconds?: number;
  /** With `insufficient_scope`: the scopes the route requires (for the RFC 6750 challenge). */
  requiredScopes?: readonly string[];
}

/** What is left of a key's credits. */
export interface CreditStanding {
  remaining: number;
  /** Seconds until they are refilled; absent without a refill. */
  refillSeconds?: number;
}

/** Outcome of an access decision. */
export type AccessDecision = ({ ok: true; key: VerifiedKey; credits?: CreditStanding } & RateStanding) | AccessRefusal;

/** Collaborators of {@link createAccessDecision}. */
export interface AccessDecisionDeps {
  verify: KeyVerifier;
  limiter: RateLimiter;
  /** The clock (milliseconds since epoch): a key's credits are refilled by it. */
  now: () => number;
}

/** The decision, from an `Authorization` header or from a key string. */
export interface AccessDecider {
  /** Decides on an `Authorization` header value (RFC 6750 `Bearer <key>`). */
  decide(authorization: string | undefined, options?: AccessOptions): Promise<AccessDecision>;
  /** Decides on a key string given as it is. */
  decideKey(token: string, options?: AccessOptions): Promise<AccessDecision>;
}

const MISSING: AccessRefusal = { ok: false, reason: 'missing_credentials', detail: 'an API key is required' };
const MALFORMED: AccessRefusal = {
  ok: false,
  reason: 'malformed_credentials',
  detail: 'expected "Authorization: Bearer <key>"',
};
const NO_OPTIONS: AccessOptions = {};

/** Creates the access decision over a key verifier and a rate limiter. */
export function createAccessDecision(deps: AccessDecisionDeps): AccessDecider {
  async function decideKey(token: string, options = NO_OPTIONS): Promise<AccessDecision> {
    const verdict = await deps.verify(token);
    if (!verdict.ok) return verdict;
    const { key } = verdict;
    const credit = key.credits ? creditLimitOf(key.credits, key.expiresAt, deps.now()) : undefined;
    const limits = credit ? [...key.limits, credit] : key.limits;
    if (options.consume === false) {
      const { standing, credits } = apart(await deps.limiter.peek(key.id, limits), credit?.refills);
      return allowedFor(key, standing, credits, options);
    }
    const counted = await deps.limiter.consume(key.id, limits);
    const { standing, credits } = apart(counted, credit?.refills);
    if (!counted.allowed) {
      const who = { keyId: key.id, sub: key.sub, ...standing, ...(credits ? { credits } : {}) };
      if (credits?.remaining === 0) {
        // Out of credits: a retry helps only once they are refilled.
        const refill = credits.refillSeconds;
        const detail = refill === undefined ? 'no credits left' : `no credits left until the refill in ${refill} s`;
        return { ok: false, reason: 'credits_exhausted', detail, ...who, ...(refill === undefined ? {} : { retryAfterSeconds: Math.max(1, refill) }) };
      }
      const window = refusingWindow(standing.windows) ?? counted.window;
      return {
        ok: false,
        reason: 'rate_limited',
        detail: `over ${window.limit} requests per ${window.windowSeconds} s${window.name === DEFAULT_LIMIT_NAME ? '' : ` (limit ${window.name})`}`,
        ...who,
        window,
        retryAfterSeconds: Math.max(1, window.resetSeconds),
      };
    }
    return allowedFor(key, standing, credits, options);
  }

  return {
    decideKey,
    decide(authorization, options) {
      const bearer = readBearer(authorization);
      if (!bearer.ok) return Promise.resolve(bearer.reason === 'missing_credentials' ? MISSING : MALFORMED);
      return decideKey(bearer.token, options);
    },
  };
}

/** The rate windows (for the RateLimit fields) apart from the credits' window, the last when present. */
function apart(counted: RateStanding | LimitDecision, refills: boolean | undefined): { standing: RateStanding; credits?: CreditStanding } {
  const last = counted.windows[counted.windows.length - 1]!;
  if (refills === undefined || last.name !== CREDITS) return { standing: { windows: counted.windows, window: counted.window } };
  const windows = counted.windows.slice(0, -1);
  const credits: CreditStanding = { remaining: last.remaining, ...(refills ? { refillSeconds: last.resetSeconds } : {}) };
  return { standing: { windows, window: closestWindow(windows) }, credits };
}

function allowedFor(key: VerifiedKey, standing: RateStanding, credits: CreditStanding | undefined, options: AccessOptions): AccessDecision {
  const { window, windows } = standing;
  if (options.roles && !options.roles.includes(key.role)) {
    return { ok: false, reason: 'forbidden', detail: `role ${key.role} may not use this route`, keyId: key.id, sub: key.sub, window, windows };
  }
  const missing = options.scopes?.filter((s) => !key.scopes.includes(s));
  if (missing?.length) {
    const detail = `the key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
    return { ok: false, reason: 'insufficient_scope', detail, keyId: key.id, sub: key.sub, window, windows, requiredScopes: options.scopes };
  }
  return { ok: true, key, window, windows, ...(credits ? { credits } : {}) };
}
