/**
 * Verifies an API key string without asking the issuer: signature and claims against the
 * issuer's public keys (skipped for a key string verified before, when the cache is on), then
 * the key's current state from the key stream, which is checked on every call.
 */
import { LRUCache } from 'lru-cache';
import { checkApiKey, defaultLimits, scopesOfClaim, type ApiKeyClaims } from '@akm/common';
import type { KeySource } from '../store/key-source.js';
import type { KeyStateStore } from './key-state-store.js';
import type { Readiness } from './readiness.js';
import type { Verdict } from './verdict.js';

/** Options of {@link createKeyVerifier}. */
export interface KeyVerifierOptions {
  keys: KeySource;
  store: KeyStateStore;
  readiness: Readiness;
  /** The clock, milliseconds since epoch. */
  now: () => number;
  issuer: string;
  audience: string;
  /** Allowed skew on the signed `exp`/`nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** How long after its `iat` a key with no state yet is accepted on its claims alone, in seconds. */
  newKeyGraceSeconds: number;
  /** Most key strings whose signature check is remembered; 0 turns the cache off. */
  cacheSize: number;
}

/** Verifies key strings. */
export type KeyVerifier = (token: string) => Promise<Verdict>;

/** Signature-checked claims, and the scopes their `scope` claim grants (split once, then cached). */
interface SignedClaims {
  claims: ApiKeyClaims;
  scopes: readonly string[];
}

type Signed = ({ ok: true } & SignedClaims) | Extract<Verdict, { ok: false }>;

/** Creates the key verification of a verifier. */
export function createKeyVerifier(options: KeyVerifierOptions): KeyVerifier {
  // Entries are signature-checked claims; time and state are re-checked on every use. The TTL
  // bounds how long a key stays trusted after its signing key is withdrawn from the JWKS.
  const cache =
    options.cacheSize > 0 ? new LRUCache<string, SignedClaims>({ max: options.cacheSize, ttl: 300_000 }) : undefined;

  async function checkSignature(token: string, nowMs: number): Promise<Signed> {
    const cached = cache?.get(token);
    if (cached) {
      if (cached.claims.nbf > nowMs / 1000 + options.clockToleranceSeconds) return notYetValid(cached.claims);
      return { ok: true, ...cached };
    }
    const result = await checkApiKey(token, options.keys.getKey, {
      issuer: options.issuer,
      audience: options.audience,
      currentDate: new Date(nowMs),
      clockToleranceSeconds: options.clockToleranceSeconds,
    });
    // An expired signature is still a valid one: the key's state may extend its life.
    const claims = result.ok ? result.claims : result.reason === 'expired' ? result.claims : undefined;
    if (claims) {
      const signed = { claims, scopes: scopesOfClaim(claims.scope) };
      cache?.set(token, signed);
      return { ok: true, ...signed };
    }
    if (!result.ok && result.reason === 'not_yet_valid') return { ok: false, reason: 'not_yet_valid', detail: result.detail };
    return { ok: false, reason: 'invalid', detail: result.ok ? 'the claims cannot be read' : result.detail };
  }

  return async function verify(token) {
    const ready = options.readiness.check();
    if (!ready.ready) return { ok: false, reason: 'unavailable', detail: ready.detail ?? 'not ready' };
    const nowMs = options.now();
    const signed = await checkSignature(token, nowMs);
    if (!signed.ok) return signed;
    const { claims, scopes } = signed;
    const who = { keyId: claims.jti, sub: claims.sub };
    const state = options.store.get(claims.jti);
    const nowS = nowMs / 1000;

    if (!state) {
      if (nowS >= claims.exp + options.clockToleranceSeconds) {
        return { ok: false, reason: 'expired', detail: 'key expired', ...who };
      }
      // A key the stream never told about is trusted only while its event may still be on its way.
      if (nowS - claims.iat > options.newKeyGraceSeconds) {
        return { ok: false, reason: 'invalid', detail: 'key unknown to the key stream', ...who };
      }
      const { jti: id, sub, role, rate_limit: rateLimit, exp: expiresAt } = claims;
      const limits = claims.limits ?? defaultLimits(rateLimit);
      const credits = claims.credits ? { credits: claims.credits } : {};
      return { ok: true, key: { id, sub, role, status: 'active', rateLimit, limits, expiresAt, scopes, ...credits } };
    }
    if (state.status === 'revoked') return { ok: false, reason: 'revoked', detail: 'key revoked', ...who };
    if (state.status === 'disabled') return { ok: false, reason: 'disabled', detail: 'key disabled', ...who };
    if (nowS >= state.expiresAt) {
      if (state.rolledOut) return { ok: false, reason: 'revoked', detail: 'key revoked: it was rolled and its grace period ended', ...who };
      return { ok: false, reason: 'expired', detail: 'key expired', ...who };
    }
    const { keyId: id, sub, role, status, rateLimit, limits, expiresAt } = state;
    const credits = state.credits ? { credits: state.credits } : {};
    return { ok: true, key: { id, sub, role, status, rateLimit, limits, expiresAt, scopes, ...credits } };
  };
}

function notYetValid(claims: ApiKeyClaims): Signed {
  return { ok: false, reason: 'not_yet_valid', detail: 'token not yet valid', keyId: claims.jti, sub: claims.sub };
}
