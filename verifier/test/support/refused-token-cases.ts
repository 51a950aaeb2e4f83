/**
 * Key strings a verifier must refuse, each with the answer it must give: forged, wrongly
 * signed, mistyped, timed out, malformed, missing a required claim, oversized. Shared by the
 * verifier's own tests and the end-to-end ones against the real issuer's signing key.
 */
import { createHmac } from 'node:crypto';
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import {
  API_KEY_TYP,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  SESSION_AUDIENCE,
  SESSION_TYP,
} from '@akm/common';
import { signKey, type TestSigner } from './signing.js';

/**
 * The detail of a refusal for being unknown to the key stream past the new-key grace: no case
 * below may be refused for that (it would pass for the wrong reason on a slow run).
 */
export const UNKNOWN_TO_STREAM = 'key unknown to the key stream';

/** One refused key string and the answer it must get. */
export interface RefusedTokenCase {
  /** Reads after "when a key …". */
  name: string;
  /** Builds the key string from the verifier's signer, another signer, and now (seconds). */
  token: (signer: TestSigner, other: TestSigner, nowS: number) => Promise<string> | string;
  status: number;
  code: string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Every claim of a valid API key, as the issuer signs it (the control of the missing-claim cases). */
export function validClaims(nowS: number): JWTPayload & Record<string, unknown> {
  return {
    iss: DEFAULT_ISSUER, aud: DEFAULT_KEY_AUDIENCE, sub: 'alice', jti: `key_missing_${nowS}`,
    iat: nowS, nbf: nowS, exp: nowS + 3600, role: 'user', rate_limit: 100,
  };
}

/** Signs `claims` as they are (nothing added) with `signer`, under the API key header plus `extraHeader`. */
export function signRaw(signer: TestSigner, claims: JWTPayload, extraHeader: Record<string, unknown> = {}): Promise<string> {
  const header = { ...extraHeader, alg: 'EdDSA', kid: signer.kid, typ: API_KEY_TYP } as JWTHeaderParameters;
  return new SignJWT(claims).setProtectedHeader(header).sign(signer.privateKey);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The key string with its signature written another way that decodes to the same bytes: with
 * `=` padding, or with the unused low bits of its last character set (an Ed25519 signature is 64
 * bytes, 86 characters: the last one carries 2 bits and 4 unused ones).
 */
export function nonCanonicalSignature(token: string, how: 'padded' | 'low bits'): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  if (how === 'padded') return `${header}.${payload}.${signature}==`;
  const last = BASE64URL.indexOf(signature.at(-1)!);
  const variant = `${signature.slice(0, -1)}${BASE64URL[last + 1]}`;
  // The variant must decode to the very same signature, or the case would test nothing.
  if (!Buffer.from(variant, 'base64url').equals(Buffer.from(signature, 'base64url'))) throw new Error('not the same bytes');
  return `${header}.${payload}.${variant}`;
}

/** A validly signed key lacking the `claim` it requires. */
function missing(claim: string): RefusedTokenCase {
  return {
    name: `validly signed without its ${claim} claim`,
    token: (s, _o, n) => {
      const claims = validClaims(n);
      delete claims[claim];
      return signRaw(s, claims);
    },
    status: 401,
    code: 'invalid_key',
  };
}

export const REFUSED_TOKEN_CASES: readonly RefusedTokenCase[] = [
  { name: 'signed by another key under the same kid', token: (s, o, n) => signKey({ ...o, kid: s.kid }, {}, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with an unknown kid', token: (_s, o, n) => signKey(o, {}, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  {
    name: 'with alg none',
    token: (s, _o, n) => `${b64url({ alg: 'none', typ: 'akm-key+jwt', kid: s.kid })}.${b64url({ iss: 'akm', aud: 'akm-api', sub: 'eve', jti: 'k1', iat: n, nbf: n, exp: n + 600, role: 'admin', rate_limit: 9999 })}.`,
    status: 401,
    code: 'invalid_key',
  },
  {
    name: 'HS256-signed with the public key as the secret',
    token: (s, _o, n) => {
      const input = `${b64url({ alg: 'HS256', typ: 'akm-key+jwt', kid: s.kid })}.${b64url({ iss: 'akm', aud: 'akm-api', sub: 'eve', jti: 'k2', iat: n, nbf: n, exp: n + 600, role: 'admin', rate_limit: 9999 })}`;
      const secret = Buffer.from(String(s.publicJwk.x), 'base64url');
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    },
    status: 401,
    code: 'invalid_key',
  },
  { name: 'expired', token: (s, _o, n) => signKey(s, { iat: n - 7200, exp: n - 3600 }, n * 1000).then((k) => k.token), status: 401, code: 'key_expired' },
  { name: 'with nbf in the future', token: (s, _o, n) => signKey(s, { nbf: n + 3600 }, n * 1000).then((k) => k.token), status: 401, code: 'key_not_yet_valid' },
  { name: 'with the wrong iss', token: (s, _o, n) => signKey(s, { iss: 'mallory' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with the wrong aud', token: (s, _o, n) => signKey(s, { aud: 'other-api' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'with typ JWT', token: (s, _o, n) => signKey(s, { typ: 'JWT' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  { name: 'that is a sign-in token', token: (s, _o, n) => signKey(s, { typ: SESSION_TYP, aud: SESSION_AUDIENCE, role: 'admin' }, n * 1000).then((k) => k.token), status: 401, code: 'invalid_key' },
  {
    name: 'with a tampered payload',
    token: async (s, _o, n) => {
      const [h, p, sig] = (await signKey(s, { rateLimit: 1 }, n * 1000)).token.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      return `${h}.${b64url({ ...claims, rate_limit: 1_000_000, role: 'admin' })}.${sig}`;
    },
    status: 401,
    code: 'invalid_key',
  },
  {
    name: 'validly signed but with its signature padded (non-canonical base64url)',
    token: async (s, _o, n) => nonCanonicalSignature((await signKey(s, {}, n * 1000)).token, 'padded'),
    status: 401,
    code: 'invalid_key',
  },
  {
    name: 'validly signed but with unused low bits set in the last character of its signature',
    token: async (s, _o, n) => nonCanonicalSignature((await signKey(s, {}, n * 1000)).token, 'low bits'),
    status: 401,
    code: 'invalid_key',
  },
  { name: 'truncated', token: async (s, _o, n) => (await signKey(s, {}, n * 1000)).token.slice(0, -10), status: 401, code: 'invalid_key' },
  { name: 'with characters outside base64url', token: () => 'eyJ+/.ab+c/.de+/', status: 401, code: 'invalid_key' },
  { name: 'that is plain garbage', token: () => 'hello', status: 401, code: 'invalid_key' },
  { name: 'of 8 KB', token: () => 'a'.repeat(8 * 1024), status: 401, code: 'invalid_key' },
  ...['role', 'rate_limit', 'jti', 'sub', 'exp'].map(missing),
  {
    name: 'validly signed with an 8 KB protected header',
    token: (s, _o, n) => signRaw(s, validClaims(n), { pad: 'x'.repeat(8 * 1024) }),
    status: 401,
    code: 'invalid_key',
  },
];
