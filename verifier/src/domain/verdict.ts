/**
 * What verifying a key can come to: outcomes are data; only the HTTP layer turns a refusal
 * reason into a status and a problem code.
 */
import type { CreditGrant, KeyStatus, RateLimitSpec, Role } from '@akm/common';

/** Why a presented API key is refused by the verifier itself. */
export type KeyRefusal =
  /** Not ready: the key stream is not replayed yet, or too stale to trust. */
  | 'unavailable'
  /** Bad signature, wrong type, issuer, audience or claims, unknown `kid`, unknown key, garbage. */
  | 'invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'revoked'
  | 'disabled';

/** Why a request to a protected route is refused (the key's refusals, plus the request's). */
export type Refusal =
  | KeyRefusal
  | 'missing_credentials'
  | 'malformed_credentials'
  | 'forbidden'
  | 'insufficient_scope'
  | 'rate_limited'
  | 'credits_exhausted';

/** Every outcome of a protected request, as counted in metrics and logs. */
export type Outcome = 'ok' | Refusal;

/** A key that may be served, with its current (state-overridden) plan. */
export interface VerifiedKey {
  /** The key id (`jti`). */
  id: string;
  /** The key's owner. */
  sub: string;
  role: Role;
  status: KeyStatus;
  /** Requests per minute of a key with one limit (the first limit's count otherwise). */
  rateLimit: number;
  /** Every limit of the key, current (state-overridden): a request must fit all. */
  limits: readonly RateLimitSpec[];
  /** The key's credits (current grant); unlimited when absent. */
  credits?: CreditGrant;
  /** Seconds since epoch. */
  expiresAt: number;
  /** What the key may do besides its role: its signed `scope` claim, split. */
  scopes: readonly string[];
}

/** Outcome of verifying a key string. */
export type Verdict =
  | { ok: true; key: VerifiedKey }
  | { ok: false; reason: KeyRefusal; detail: string; keyId?: string; sub?: string };
