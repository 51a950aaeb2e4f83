/**
 * Test issuer keys: an Ed25519 pair and API keys signed exactly as the issuer signs them, plus
 * helpers to forge the tokens a verifier must refuse.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JSONWebKeySet } from 'jose';
import { API_KEY_TYP, DEFAULT_ISSUER, DEFAULT_KEY_AUDIENCE, type RateLimitSpec, type Role } from '@akm/common';

/** A signing key and its public JWKS. */
export interface TestSigner {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
  jwks: JSONWebKeySet;
}

/** Creates a fresh Ed25519 signing key with a random `kid`. */
export async function createSigner(): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = `k-${randomUUID().slice(0, 8)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { kid, privateKey, publicJwk, jwks: { keys: [publicJwk] } };
}

/** What an API key says; anything omitted gets a sensible default. */
export interface KeySpec {
  keyId?: string;
  sub?: string;
  role?: Role;
  rateLimit?: number;
  /** Seconds since epoch. */
  iat?: number;
  nbf?: number;
  exp?: number;
  iss?: string;
  aud?: string;
  typ?: string;
  kid?: string;
  /** The `scope` claim, space-delimited; none (a key from before scopes) when omitted. */
  scope?: string;
  /** The `limits` claim (several limits); none when omitted. */
  limits?: RateLimitSpec[];
}

/** A signed key and the claims it carries. */
export interface SignedKey {
  token: string;
  keyId: string;
  sub: string;
  rateLimit: number;
  exp: number;
}

/** Signs an API key as the issuer does (`alg` EdDSA, `typ` akm-key+jwt), times from `nowMs`. */
export async function signKey(signer: TestSigner, spec: KeySpec = {}, nowMs = Date.now()): Promise<SignedKey> {
  const nowS = Math.floor(nowMs / 1000);
  const keyId = spec.keyId ?? `key_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const sub = spec.sub ?? 'alice';
  const rateLimit = spec.rateLimit ?? 100;
  const iat = spec.iat ?? nowS;
  const exp = spec.exp ?? nowS + 3600;
  const token = await new SignJWT({ role: spec.role ?? 'user', rate_limit: rateLimit, ...(spec.scope !== undefined ? { scope: spec.scope } : {}), ...(spec.limits ? { limits: spec.limits } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: spec.kid ?? signer.kid, typ: spec.typ ?? API_KEY_TYP })
    .setIssuer(spec.iss ?? DEFAULT_ISSUER)
    .setAudience(spec.aud ?? DEFAULT_KEY_AUDIENCE)
    .setSubject(sub)
    .setJti(keyId)
    .setIssuedAt(iat)
    .setNotBefore(spec.nbf ?? iat)
    .setExpirationTime(exp)
    .sign(signer.privateKey);
  return { token, keyId, sub, rateLimit, exp };
}
