/**
 * Where the issuer's public keys come from: its JWKS URL (cached by jose, refreshed in the
 * background every minute, and refetched when an unknown `kid` appears, at most once per
 * cool-down) or a local JWKS file for fully offline use.
 *
 * The issuer publishes its next signing key a rotation ahead of its use, so the minute's refresh
 * is what makes a rotation seamless: a verifier has the key before its first token exists, and
 * the unknown-`kid` refetch (which anyone can put in its cool-down with a made-up `kid`) is only
 * a fallback.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** The issuer's public keys, as the signature check needs them. */
export interface KeySource {
  /** Picks the key for a token's header (`kid`, `alg`). */
  getKey: JWTVerifyGetKey;
  /** Where the keys come from, for logs and `/readyz`. */
  origin: string;
  /** Fetches the keys ahead of the first request; false when that failed (it retries on use). */
  warmUp(): Promise<boolean>;
  /** Reads the keys again now (a file source, e.g. on SIGHUP); false when that failed and the last keys stay. */
  reload?(): Promise<boolean>;
  /** Stops watching for changes, for a source that watches. */
  close?(): void;
}

/** Options of a remote key source. */
export interface RemoteKeySourceOptions {
  /** The issuer's JWKS URL, e.g. `http://issuer:8080/.well-known/jwks.json`. */
  url: string;
  /** Milliseconds between two fetches caused by unknown `kid`s. Default 30 000 (jose default). */
  cooldownMs?: number;
  /**
   * Milliseconds a fetched key set is used before it is refreshed (in the background, the old set
   * serving meanwhile). Default 60 000, the issuer's JWKS `max-age`.
   */
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
    cacheMaxAge: options.cacheMaxAgeMs ?? 60_000,
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

/** Options of {@link loadKeySourceFile}. */
export interface KeySourceFileOptions {
  /** Re-read the file when it changes (watching its directory, so a rename over it counts). Default true. */
  watch?: boolean;
  /** Told after each successful read past the first, with the number of keys. */
  onReload?: (keys: number) => void;
  /** Told when a re-read failed (the keys read before stay in use), with why. */
  onReloadError?: (detail: string) => void;
  /** Milliseconds between two checks of the file caused by unknown `kid`s. Default 1 000. */
  unknownKidCheckMs?: number;
}

/**
 * Keys from a local JWKS file (`{"keys": [...]}`, the issuer's `/.well-known/jwks.json`),
 * kept current without a restart: the file is read again when it changes (written in place or
 * renamed over), on `reload()` (the service calls it on SIGHUP), and when a key names a `kid`
 * the keys in memory lack and the file changed since it was read (in case change notices are
 * lost, e.g. on a network file system). A file that cannot be read or parsed on a re-read
 * leaves the keys read before in use.
 * @throws Error naming the file when the first read fails or finds no JWKS.
 */
export async function loadKeySourceFile(path: string, options: KeySourceFileOptions = {}): Promise<KeySource> {
  let current = createLocalJWKSet(await readJwksFile(path));
  let stamp = await stampOf(path);
  let reading: Promise<boolean> | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  const checkEveryMs = options.unknownKidCheckMs ?? 1000;

  const reload = (): Promise<boolean> =>
    (reading ??= (async () => {
      try {
        const seen = await stampOf(path);
        const jwks = await readJwksFile(path);
        current = createLocalJWKSet(jwks);
        stamp = seen;
        options.onReload?.(jwks.keys.length);
        return true;
      } catch (err) {
        options.onReloadError?.((err as Error).message);
        return false;
      } finally {
        reading = undefined;
      }
    })());

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await current(header, token);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || Date.now() - checkedAt < checkEveryMs) throw err;
      checkedAt = Date.now();
      if ((await stampOf(path).catch(() => stamp)) === stamp) throw err;
      await reload();
      return current(header, token);
    }
  };

  let watcher: FSWatcher | undefined;
  let pending: NodeJS.Timeout | undefined;
  if (options.watch !== false) {
    const name = basename(path);
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      // A write comes as several notices: read once they settle.
      clearTimeout(pending);
      pending = setTimeout(() => void reload(), 50);
      pending.unref();
    });
    watcher.on('error', (err) => options.onReloadError?.(`watching ${path} failed: ${err.message}`));
  }

  return {
    getKey,
    origin: path,
    warmUp: async () => true,
    reload,
    close() {
      clearTimeout(pending);
      watcher?.close();
    },
  };
}

async function readJwksFile(path: string): Promise<JSONWebKeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the JWKS file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isKeySet(parsed)) throw new Error(`the JWKS file ${path} has no "keys" array`);
  return parsed;
}

/** What changes when the file is written or replaced. */
async function stampOf(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}
