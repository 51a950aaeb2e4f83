/**
 * The fast path of a token check: the token's Ed25519 signature checked with `crypto.verify`
 * on a `KeyObject` made once per key, instead of jose's WebCrypto call (an asynchronous job on
 * the thread pool, about twice the cost per token). It only ever *accepts*, and only a token
 * that jose's `jwtVerify` accepts as well: every check jose makes is made here at least as
 * strictly, and a token that is not exactly as akm signs them (another `alg`, a `crit` or `b64`
 * header, a `typ` spelled otherwise, a claim of another type, a bad signature, a time out of
 * range) is declined, and the caller asks jose, whose answer stands.
 */
import { KeyObject, verify } from 'node:crypto';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';

/** What the fast path is told to check; the same as jose's options of a check. */
export interface FastPathChecks {
  alg: string;
  typ: string;
  issuer: string;
  audience: string;
  /** Claims that must be present. */
  required: readonly string[];
  /** Seconds since epoch, rounded down as jose does. */
  now: number;
  /** Allowed clock skew, in seconds. */
  toleranceSeconds: number;
}

/** The fast path's outcome: accepted, the key lookup's own failure, or declined (ask jose). */
export type FastPathResult =
  | { ok: true; payload: JWTPayload; kid: string | undefined }
  | { ok: false; keyError: unknown }
  | undefined;

// A KeyObject per key the key set handed out (jose keeps one CryptoKey per JWK).
const keyObjects = new WeakMap<object, KeyObject | null>();

function keyObjectOf(key: unknown): KeyObject | null {
  if (key instanceof KeyObject) return key.asymmetricKeyType === 'ed25519' ? key : null;
  if (typeof key !== 'object' || key === null || key instanceof Uint8Array) return null;
  // jose refuses a CryptoKey not made for verifying (its usages); so does the fast path.
  const usages = (key as { usages?: unknown }).usages;
  if (!Array.isArray(usages) || !usages.includes('verify')) return null;
  let known = keyObjects.get(key);
  if (known === undefined) {
    try {
      const object = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
      known = object.type === 'public' && object.asymmetricKeyType === 'ed25519' ? object : null;
    } catch {
      known = null;
    }
    keyObjects.set(key, known);
  }
  return known;
}

function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function claimsHold(payload: Record<string, unknown>, checks: FastPathChecks): boolean {
  for (const claim of checks.required) if (!(claim in payload)) return false;
  if (payload.iss !== checks.issuer) return false;
  const aud = payload.aud;
  if (!(aud === checks.audience || (Array.isArray(aud) && aud.includes(checks.audience)))) return false;
  const { iat, nbf, exp } = payload;
  if (iat !== undefined && typeof iat !== 'number') return false;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > checks.now + checks.toleranceSeconds)) return false;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= checks.now - checks.toleranceSeconds)) return false;
  return true;
}

/** Checks a compact JWS token whose segments are canonical base64url; see the module comment. */
export async function verifyFast(token: string, getKey: JWTVerifyGetKey, checks: FastPathChecks): Promise<FastPathResult> {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || second === token.length - 1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const header = parseSegment(token.slice(0, first));
  if (!header || header.alg !== checks.alg || header.typ !== checks.typ || 'crit' in header || 'b64' in header) return undefined;
  if (header.kid !== undefined && typeof header.kid !== 'string') return undefined;
  let key: unknown;
  try {
    // jose asks the key set at this point too, with the same header: its failure is jose's answer.
    key = await getKey(header as Parameters<JWTVerifyGetKey>[0], {
      protected: token.slice(0, first),
      payload: token.slice(first + 1, second),
      signature: token.slice(second + 1),
    });
  } catch (err) {
    return { ok: false, keyError: err };
  }
  const keyObject = keyObjectOf(key);
  if (!keyObject) return undefined;
  let valid: boolean;
  try {
    valid = verify(null, Buffer.from(token.slice(0, second)), keyObject, Buffer.from(token.slice(second + 1), 'base64url'));
  } catch {
    return undefined;
  }
  if (!valid) return undefined;
  const payload = parseSegment(token.slice(first + 1, second));
  if (!payload || !claimsHold(payload, checks)) return undefined;
  return { ok: true, payload: payload as JWTPayload, kid: header.kid as string | undefined };
}
