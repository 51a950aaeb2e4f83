/**
 * The JWT shapes akm issues. API keys and sign-in tokens differ in `typ` and `aud`, so that
 * neither can ever be accepted in place of the other.
 */
import type { CreditGrant, RateLimitSpec } from './rate-limits.js';

/** JOSE `typ` header of an API key. */
export const API_KEY_TYP = 'akm-key+jwt';
/** JOSE `typ` header of a sign-in (session) token. */
export const SESSION_TYP = 'akm-session+jwt';
/** The only signature algorithm akm issues or accepts. */
export const SIGNING_ALG = 'EdDSA';
/** Default `iss` of every token. */
export const DEFAULT_ISSUER = 'akm';
/** Default `aud` of API keys. */
export const DEFAULT_KEY_AUDIENCE = 'akm-api';
/** `aud` of sign-in tokens: only the issuer's own API accepts them. */
export const SESSION_AUDIENCE = 'akm-issuer';

/** Roles a key or a user may have. */
export const ROLES = ['admin', 'user'] as const;
export type Role = (typeof ROLES)[number];

/**
 * One scope of a key: letters, digits and `. _ : / -`, starting with a letter or digit, at most
 * 64 characters (`prices:read`). A subset of RFC 6749's scope-token, so that a space-delimited
 * `scope` claim and a comma-separated `scopes=` query are both unambiguous.
 */
export const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
/** Most scopes on one key. */
export const MAX_KEY_SCOPES = 32;
/**
 * Scopes of a key issued without any, and of a key issued before keys had scopes (no `scope`
 * claim): the shipped `/price` route needs `prices:read`, so existing keys keep working.
 */
export const DEFAULT_KEY_SCOPES: readonly string[] = ['prices:read'];

/** The scopes a `scope` claim grants (space-delimited, RFC 8693 §4.2); {@link DEFAULT_KEY_SCOPES} when absent. */
export function scopesOfClaim(scope: string | undefined): readonly string[] {
  return scope === undefined ? DEFAULT_KEY_SCOPES : scope.split(' ').filter((s) => s !== '');
}

/** Lifecycle status of a key. `revoked` is final. */
export const KEY_STATUSES = ['active', 'disabled', 'revoked'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Claims of an API key (RFC 7519 times are seconds since epoch). */
export interface ApiKeyClaims {
  iss: string;
  aud: string;
  /** The key's owner. */
  sub: string;
  /** The key id: also its id in every API and event. */
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  role: Role;
  /** Requests per minute. */
  rate_limit: number;
  /** Every limit, when the key has more than the one per-minute `rate_limit`. */
  limits?: RateLimitSpec[];
  /** The key's credits when issued with some (a grant; events may replace it since). */
  credits?: CreditGrant;
  /** Space-delimited scopes (RFC 8693 §4.2); absent on keys issued before scopes: {@link DEFAULT_KEY_SCOPES}. */
  scope?: string;
}

/** Claims of a sign-in token. */
export interface SessionClaims {
  iss: string;
  aud: string;
  /** The user name. */
  sub: string;
  jti: string;
  iat: number;
  exp: number;
  role: Role;
  /** The user's session epoch when signed in: a password, role or status change replaces it. */
  sv?: string;
}
