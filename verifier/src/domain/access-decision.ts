/**
 * The one access decision of the verifier: bearer → key verdict → rate limit → role → scopes. The
 * Express middleware (`protect()`), forward auth (`/auth`) and the verify endpoint
 * (`/v1/verify`) all answer from it, so they can never disagree. Outcomes are data; the HTTP
 * layer turns a refusal into a status.
 */
import { DEFAULT_LIMIT_NAME, readBearer, type Role } from '@akm/common';
import type { KeyVerifier } from './key-verifier.js';
import type { RateLimiter, RateStanding, RateWindow } from './rate-limiter.js';
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
  /** Seconds until a rate-limited key may try again. */
  retryAfterSeconds?: number;
  /** With `insufficient_scope`: the scopes the route requires (for the RFC 6750 challenge). */
  requiredScopes?: readonly string[];
}

/** Outcome of an access decision. */
export type AccessDecision = ({ ok: true; key: VerifiedKey } & RateStanding) | AccessRefusal;

/** Collaborators of {@link createAccessDecision}. */
export interface AccessDecisionDeps {
  verify: KeyVerifier;
  limiter: RateLimiter;
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
    if (options.consume === false) {
      const standing = await deps.limiter.peek(key.id, key.limits);
      return allowedFor(key, standing, options);
    }
    const counted = await deps.limiter.consume(key.id, key.limits);
    if (!counted.allowed) {
      const { window } = counted;
      return {
        ok: false,
        reason: 'rate_limited',
        detail: `over ${window.limit} requests per ${window.windowSeconds} s${window.name === DEFAULT_LIMIT_NAME ? '' : ` (limit ${window.name})`}`,
        keyId: key.id,
        sub: key.sub,
        window,
        windows: counted.windows,
        retryAfterSeconds: counted.retryAfterSeconds,
      };
    }
    return allowedFor(key, counted, options);
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

function allowedFor(key: VerifiedKey, standing: RateStanding, options: AccessOptions): AccessDecision {
  const { window, windows } = standing;
  if (options.roles && !options.roles.includes(key.role)) {
    return { ok: false, reason: 'forbidden', detail: `role ${key.role} may not use this route`, keyId: key.id, sub: key.sub, window, windows };
  }
  const missing = options.scopes?.filter((s) => !key.scopes.includes(s));
  if (missing?.length) {
    const detail = `the key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`;
    return { ok: false, reason: 'insufficient_scope', detail, keyId: key.id, sub: key.sub, window, windows, requiredScopes: options.scopes };
  }
  return { ok: true, key, window, windows };
}
