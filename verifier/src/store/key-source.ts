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

/** Keys from the issuer's JWKS URL. */
export function createRemoteKeySource(options: RemoteKeySourceOptions): KeySource {
  const set = createRemoteJWKSet(new URL(options.url), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 2000,
  });
  return {
    getKey: set,
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
