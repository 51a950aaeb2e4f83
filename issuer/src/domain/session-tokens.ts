/**
 * Sign-in (session) tokens: short-lived, `typ` akm-session+jwt and `aud` akm-issuer, so they
 * are never taken for an API key.
 */
import { randomUUID } from 'node:crypto';
import { SESSION_AUDIENCE, SESSION_TYP, type Role } from '@akm/common';
import type { SigningKeys } from './signing-keys.js';

/**
 * `sub` of admin tokens minted from the data directory (`akm admin-token`): not a possible
 * user name, so it never collides with a user; accepted because only the holder of the data
 * directory (and so of the signing key) can mint it.
 */
export const LOCAL_ADMIN_SUB = 'local-admin@akm';

/** Options of {@link mintSessionToken}. */
export interface MintSessionOptions {
  signing: SigningKeys;
  issuer: string;
  sub: string;
  role: Role;
  /** Lifetime, seconds. */
  ttlSeconds: number;
  /** Milliseconds since epoch. */
  now: number;
  /** The user's session epoch (claim `sv`); none for the data directory's admin token. */
  sessionEpoch?: string;
}

/** A signed sign-in token and its expiry (seconds since epoch). */
export async function mintSessionToken(options: MintSessionOptions): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(options.now / 1000);
  const exp = iat + options.ttlSeconds;
  const token = await options.signing.sign(
    { iss: options.issuer, aud: SESSION_AUDIENCE, sub: options.sub, jti: randomUUID(), iat, exp, role: options.role, ...(options.sessionEpoch ? { sv: options.sessionEpoch } : {}) },
    SESSION_TYP,
  );
  return { token, expiresAt: exp };
}
