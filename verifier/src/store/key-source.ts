/**
 * Where the issuer's public keys come from: its JWKS URL (cached by jose, refetched when an
 * unknown `kid` appears, at most once per cool-down) or a local JWKS file for fully offline use.
 */
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** The issuer's public keys, as the signature check needs them. */
export interface KeySource {
  /** Picks the key for a token's header (`kid`, `alg`). */
  getKey: JWTVerifyGetKey;
  /** Where the keys come from, for logs and `/readyz`. */
  origin: string;
  /** Fetches the keys ahead of the first request; false when that failed (it retries on use). */
  warmUp(): Promise<boolean>;
}

/** Options of a remote key source. */
export interface RemoteKeySourceOptions {
  /** The issuer's JWKS URL, e.g. `http://issuer:8080/.well-known/jwks.json`. */
  url: string;
  /** Milliseconds between two fetches caused by unknown `kid`s. Default 30 000 (jose default). */
  cooldownMs?: number;
  /** Milliseconds a fetched key set is trusted before a refetch. Default 600 000. */
  cacheMaxAgeMs?: number;
  /** Milliseconds to wait for the issuer. Default 2 000. */
  timeoutMs?: number;
}

/**
 * Keys from the issuer's JWKS URL. Once fetched, they keep verifying keys while the issuer is
 * unreachable: past `cacheMaxAgeMs` the set is refreshed in the background (at most once per
 * cool-down after a failure) instead of failing every request on a dead issuer.
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): KeySource {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const set = createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 2000,
  });
  let lastKnown: { text: string; getKey: JWTVerifyGetKey } | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (set.fresh) return set(header, token);
    const known = set.jwks();
    if (!known) return set(header, token);
    if (!set.reloading && Date.now() - failedAt > cooldownMs) {
      set.reload().catch(() => (failedAt = Date.now()));
    }
    // jose hands out a copy each time: compare by content to reuse the imported keys.
    const text = JSON.stringify(known);
    if (lastKnown?.text !== text) lastKnown = { text, getKey: createLocalJWKSet(known) };
    try {
      return await lastKnown.getKey(header, token);
    } catch (err) {
      // A kid missing from a stale set may be the issuer's rotated key: wait for the refetch
      // rather than refuse it, unless the set is in its cool-down or the issuer just failed.
      const unknownKid = (err as { code?: unknown }).code === 'ERR_JWKS_NO_MATCHING_KEY';
      if (!unknownKid || set.coolingDown || Date.now() - failedAt <= cooldownMs) throw err;
      return set(header, token);
    }
  };

  return {
    getKey,
    origin: options.url,
    async warmUp() {
      try {
        await set.reload();
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Keys from a JWKS object already in memory. */
export function createStaticKeySource(jwks: JSONWebKeySet, origin = 'static JWKS'): KeySource {
  const set = createLocalJWKSet(jwks);
  return { getKey: set, origin, warmUp: async () => true };
}

/**
 * Keys from a local JWKS file (`{"keys": [...]}`), read once.
 * @throws Error naming the file when it cannot be read or is not a JWKS.
 */
export async function loadKeySourceFile(path: string): Promise<KeySource> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the JWKS file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isKeySet(parsed)) throw new Error(`the JWKS file ${path} has no "keys" array`);
  return createStaticKeySource(parsed, path);
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}
