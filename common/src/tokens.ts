/**
 * The JWT shapes akm issues. API keys and sign-in tokens differ in `typ` and `aud`, so that
 * neither can ever be accepted in place of the other.
 */

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
