/**
 * A user's key policy: whether, and within what bounds, a user creates keys of their own with
 * their sign-in. None by default: then only an admin issues a user's keys (seed 001); with one,
 * the user creates, rolls and revokes their own keys within it (seed 002).
 */
import type { RateLimitSpec } from '@akm/common';

/** The bounds of a user's own keys. */
export interface KeyPolicy {
  /** Most live keys (active or disabled, not expired or revoked) the user may hold. */
  maxKeys: number;
  /** Most requests per minute any of the user's keys may allow. */
  maxRateLimit: number;
  /** Longest lifetime of a key the user creates, seconds. */
  maxTtlSeconds: number;
  /** The scopes the user's keys may have (and get, when none are asked for). */
  scopes: string[];
}

/** What a user asks for when creating a key. */
export interface OwnKeyRequest {
  limits: readonly RateLimitSpec[];
  /** Seconds from now. */
  ttlSeconds: number;
  scopes: readonly string[];
}

/**
 * The most requests a key with `limits` can be served in one minute: each limit of a window of
 * a minute or less allows its count per window, a longer one its count in all.
 */
export function perMinuteCeiling(limits: readonly RateLimitSpec[]): number {
  return Math.min(...limits.map((l) => (l.windowSeconds <= 60 ? l.limit * Math.ceil(60 / l.windowSeconds) : l.limit)));
}

/** The bound `request` goes past, in plain words naming it; undefined when it is within `policy`. */
export function policyBreach(policy: KeyPolicy, request: OwnKeyRequest, liveKeys: number): string | undefined {
  if (liveKeys >= policy.maxKeys) return `you hold ${liveKeys} keys: your policy's maxKeys is ${policy.maxKeys}`;
  const perMinute = perMinuteCeiling(request.limits);
  if (perMinute > policy.maxRateLimit) {
    return `these limits allow ${perMinute} requests a minute: your policy's maxRateLimit is ${policy.maxRateLimit}`;
  }
  if (request.ttlSeconds > policy.maxTtlSeconds) {
    return `a lifetime of ${request.ttlSeconds} s: your policy's maxTtlSeconds is ${policy.maxTtlSeconds}`;
  }
  const outside = request.scopes.filter((s) => !policy.scopes.includes(s));
  if (outside.length) return `scope ${outside.join(', ')} is not in your policy's scopes (${policy.scopes.join(' ') || 'none'})`;
  return undefined;
}

/**
 * Why a roll under `policy` would give the owner too many keys, or undefined. A roll may go one
 * key over `maxKeys`, for the key it replaces while that one's grace runs, and no further (else
 * rolling each new key in turn would hold any number of keys alive): `others` are the owner's
 * live keys other than the one rolled.
 */
export function rollBreach(policy: KeyPolicy, others: readonly { id: string; revokeAt: number | null }[]): string | undefined {
  if (others.length < policy.maxKeys) return undefined;
  const ending = others.filter((k) => k.revokeAt !== null).map((k) => `${k.id} works until ${new Date(k.revokeAt! * 1000).toISOString()}`);
  return (
    `you hold ${others.length + 1} live keys and your policy's maxKeys is ${policy.maxKeys}: a roll may go one over, for the key it replaces, and no further` +
    (ending.length ? ` (key ${ending.join(', key ')}: revoke it to roll now)` : '')
  );
}
