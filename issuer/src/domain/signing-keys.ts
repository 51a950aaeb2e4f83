/**
 * Ed25519 signing keys. A generated private key is kept by a {@link PrivateSigningKeys} store
 * (files in the data directory, or the database encrypted under `AKM_MASTER_KEY` for replicas),
 * or the key comes from a configured file; the records keep each key's public half and the
 * latest expiry of anything it signed, so a retired key stays in the JWKS until its last token
 * has expired. Issuers sharing the records follow a rotation made by any of them: each checks
 * which key is current every {@link SigningKeysOptions.followEveryMs} and signs with it.
 *
 * Pre-publication: the issuer also keeps a *next* key, in the JWKS from the moment it is made
 * (first start, or the previous rotation) but signing nothing. A rotation makes that key current
 * and makes a new next one, so the first token signed after a rotation is signed by a key every
 * verifier has fetched already: no verifier refuses it, whatever its refetch cool-down.
 */
import { readFileSync } from 'node:fs';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { SIGNING_ALG } from '@akm/common';
import type { PrivateSigningKeys } from './private-signing-keys.js';
import type { SigningKeyRepository } from './signing-key-record.js';

type PrivateKey = Awaited<ReturnType<typeof importJWK>>;

/** Least time between two reads of the records caused by a token's unknown key id, milliseconds. */
const UNKNOWN_KID_COOLDOWN_MS = 1000;

/** Options of {@link openSigningKeys}. */
export interface SigningKeysOptions {
  /** Where the public records live. */
  records: SigningKeyRepository;
  /** Where generated private keys are kept. */
  privateKeys: PrivateSigningKeys;
  /** A PKCS#8 PEM or private JWK file to sign with instead of a generated key. */
  keyFile?: string;
  /** Milliseconds since epoch. */
  now: () => number;
  /** Longest lifetime of a sign-in token, in seconds: a retired key is kept at least this long. */
  sessionTtlSeconds: number;
  /**
   * Keep a next key published ahead of its use (the issuer does). Off for a short-lived reader
   * of the data directory such as `akm admin-token`, which only signs with the current key.
   */
  prepublishNext?: boolean;
  /**
   * How often to check which key is current, and to read the published set again, ms: another
   * issuer on the same records may have rotated. Default 2000.
   */
  followEveryMs?: number;
}

/** The issuer's signing keys. */
export interface SigningKeys {
  /** `kid` of the key that signs new tokens. */
  currentKid(): string;
  /** `kid` of the next key: published, signing nothing until the next rotation. */
  nextKid(): Promise<string | undefined>;
  /** Signs `payload` with the current key, `typ` in the header; records its `exp`. */
  sign(payload: JWTPayload & { exp: number }, typ: string): Promise<string>;
  /** Every public key that may still have live tokens. */
  jwks(): Promise<JSONWebKeySet>;
  /** A jose key resolver over {@link jwks}, for checking the issuer's own tokens. */
  getKey: JWTVerifyGetKey;
  /** Records that a token signed by `kid` now lives until `exp` (seconds). */
  extendKey(kid: string, exp: number): Promise<void>;
  /**
   * Makes the next key current (a new one when there is none) and publishes a new next key; the
   * previous current key stays published until its tokens expire. Answers the new current kid.
   */
  rotate(): Promise<string>;
}

async function readKeyFile(file: string): Promise<{ jwk: JWK; key: PrivateKey }> {
  const text = readFileSync(file, 'utf8').trim();
  const key = text.startsWith('{')
    ? await importJWK(JSON.parse(text) as JWK, SIGNING_ALG, { extractable: true })
    : await importPKCS8(text, SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(key);
  if (jwk.crv !== 'Ed25519' || !jwk.d) throw new Error(`${file} is not an Ed25519 private key`);
  return { jwk, key };
}

function publicHalf(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: SIGNING_ALG, use: 'sig' };
}

/** Loads the signing keys, generating the first one on first start. */
export async function openSigningKeys(options: SigningKeysOptions): Promise<SigningKeys> {
  const { records, now } = options;

  async function adopt(jwk: JWK): Promise<string> {
    const kid = await calculateJwkThumbprint(jwk);
    await records.adopt(kid, JSON.stringify(publicHalf(jwk, kid)), now());
    return kid;
  }

  /** A new generated key, current (`adopt`) or only published (`prepublish`). */
  async function generate(as: 'adopt' | 'prepublish'): Promise<{ kid: string; key: PrivateKey }> {
    const pair = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(pair.privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    // The record first: a row store keeps the private half in it (a crash in between leaves a
    // key without its private half, which is replaced like a lost one).
    if (as === 'adopt') await adopt(jwk);
    else await records.prepublish(kid, JSON.stringify(publicHalf(jwk, kid)), now());
    await options.privateKeys.save(kid, jwk);
    return { kid, key: pair.privateKey };
  }

  /** A generated key, if its private half is kept. */
  async function loadGenerated(kid: string | undefined): Promise<{ kid: string; key: PrivateKey; jwk: JWK } | undefined> {
    const stored = kid ? await options.privateKeys.load(kid) : undefined;
    if (!kid || !stored) return undefined;
    const key = await importJWK(stored, SIGNING_ALG, { extractable: true });
    return { kid, key: key as PrivateKey, jwk: await exportJWK(key) };
  }

  let active: { kid: string; key: PrivateKey };
  if (options.keyFile) {
    const { jwk, key } = await readKeyFile(options.keyFile);
    active = { kid: await adopt(jwk), key };
  } else {
    const current = await loadGenerated(await records.currentKid());
    active = current ? { kid: current.kid, key: current.key } : await generate('adopt');
  }
  // A next key whose private half is gone (a copied database) could never sign: make another.
  if (options.prepublishNext && !(await loadGenerated(await records.nextKid()))) await generate('prepublish');

  const followEveryMs = options.followEveryMs ?? 2000;
  let followedAt = now();
  /** Signs with the key that is current in the records, when another issuer made another one current. */
  async function follow(): Promise<void> {
    const t = now();
    if (options.keyFile || t - followedAt < followEveryMs) return;
    followedAt = t;
    const kid = await records.currentKid();
    if (!kid || kid === active.kid) return;
    const current = await loadGenerated(kid);
    // Its private half not saved yet (being rotated right now): the next check finds it.
    if (!current) return;
    active = { kid: current.kid, key: current.key };
    cached = undefined;
  }

  let cached: { at: number; set: JSONWebKeySet; getKey: JWTVerifyGetKey } | undefined;
  async function published(): Promise<{ at: number; set: JSONWebKeySet; getKey: JWTVerifyGetKey }> {
    const t = now();
    // Re-read as often as the current key is checked: a replica that signs nothing meanwhile
    // still publishes the next key another replica's rotation made, within the same seconds.
    if (cached && t - cached.at < followEveryMs) return cached;
    const nowSeconds = Math.floor(t / 1000);
    const keys = (await records.all())
      .filter((r) => r.retiredAt === null || r.maxExp > nowSeconds || r.retiredAt + options.sessionTtlSeconds * 1000 > t)
      .map((r) => JSON.parse(r.publicJwk) as JWK);
    const set = { keys };
    cached = { at: t, set, getKey: createLocalJWKSet(set) };
    return cached;
  }

  return {
    currentKid: () => active.kid,
    async sign(payload, typ) {
      await follow();
      const { kid, key } = active;
      const token = await new SignJWT(payload).setProtectedHeader({ alg: SIGNING_ALG, kid, typ }).sign(key);
      await records.extend(kid, payload.exp);
      return token;
    },
    jwks: async () => (await published()).set,
    async getKey(header, token) {
      let set = await published();
      // A key this issuer has not read yet (made current by another replica since the set was
      // read, without pre-publication): read the records again rather than refuse its tokens
      // until the set is read again; at most once a second, so unknown kids cannot flood the store.
      if (header.kid !== undefined && !set.set.keys.some((k) => k.kid === header.kid) && now() - set.at >= UNKNOWN_KID_COOLDOWN_MS) {
        cached = undefined;
        set = await published();
      }
      return set.getKey(header, token);
    },
    extendKey: (kid, exp) => records.extend(kid, exp),
    nextKid: () => records.nextKid(),
    async rotate() {
      const next = await loadGenerated(await records.nextKid());
      if (next) {
        // Its public half has been in the JWKS since it was made; now it signs.
        await records.adopt(next.kid, JSON.stringify(publicHalf(next.jwk, next.kid)), now());
        active = { kid: next.kid, key: next.key };
      } else {
        active = await generate('adopt');
      }
      if (options.prepublishNext) await generate('prepublish');
      cached = undefined;
      return active.kid;
    },
  };
}
