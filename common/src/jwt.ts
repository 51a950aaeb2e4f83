/**
 * Checking akm's JWTs with jose: algorithm pinned to EdDSA, `typ`, `iss`, `aud`, `exp`, `nbf`
 * and the required claims checked. Outcomes are data; jose errors are mapped by their code.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { verifyFast } from './jwt-fast-path.js';
import { creditGrantSchema, rateLimitsSchema } from './rate-limits.js';
import {
  API_KEY_TYP,
  MAX_KEY_SCOPES,
  ROLES,
  SESSION_AUDIENCE,
  SESSION_TYP,
  SIGNING_ALG,
  type ApiKeyClaims,
  type SessionClaims,
} from './tokens.js';

/** Why a token was refused. */
export type TokenFailure = 'invalid' | 'expired' | 'not_yet_valid';

/** Outcome of a token check. */
export type TokenCheck<C> =
  | { ok: true; claims: C; kid: string | undefined }
  | { ok: false; reason: TokenFailure; detail: string; claims?: C };

/** Options of a token check. */
export interface CheckOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud` (API keys only; sign-in tokens always have {@link SESSION_AUDIENCE}). */
  audience?: string;
  /** The clock; defaults to now. */
  currentDate?: Date;
  /** Allowed clock skew, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/** Longest token accepted at all, in characters: anything longer is garbage. */
export const MAX_TOKEN_LENGTH = 4096;

const apiKeyClaims = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string().min(1).max(128),
  jti: z.string().min(1).max(64),
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
  role: z.enum(ROLES),
  rate_limit: z.number().int().positive(),
  scope: z.string().max(MAX_KEY_SCOPES * 65).optional(),
  limits: rateLimitsSchema.optional(),
  credits: creditGrantSchema.optional(),
});

const sessionClaims = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string().min(1).max(128),
  jti: z.string().min(1).max(64),
  iat: z.number().int(),
  exp: z.number().int(),
  role: z.enum(ROLES),
  sv: z.string().min(1).max(64).optional(),
});

/**
 * Whether each segment of a compact token is canonical base64url (RFC 7515 §2: no padding, no
 * other characters, and the unused low bits of the last character zero). Decoders accept the
 * other spellings, so without this one key would have many strings that all verify: each a new
 * cache entry, a new log line, a way around a denylist of strings.
 */
function isCanonical(token: string): boolean {
  return token.split('.').every((segment) => Buffer.from(segment, 'base64url').toString('base64url') === segment);
}

const REQUIRED_CLAIMS = ['sub', 'jti', 'iat', 'exp'] as const;

async function check<C>(
  token: string,
  key: JWTVerifyGetKey,
  typ: string,
  audience: string,
  schema: z.ZodType<C>,
  options: CheckOptions,
): Promise<TokenCheck<C>> {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'invalid', detail: `longer than ${MAX_TOKEN_LENGTH} characters` };
  if (!isCanonical(token)) return { ok: false, reason: 'invalid', detail: 'not canonical base64url' };
  const currentDate = options.currentDate ?? new Date();
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const fast = await verifyFast(token, key, {
    alg: SIGNING_ALG,
    typ,
    issuer: options.issuer,
    audience,
    required: REQUIRED_CLAIMS,
    now: Math.floor(currentDate.getTime() / 1000),
    toleranceSeconds: clockTolerance,
  });
  if (fast?.ok === false) return failure(fast.keyError, schema);
  let verified: { payload: JWTPayload; kid: string | undefined };
  if (fast?.ok) verified = fast;
  else {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, key, {
        algorithms: [SIGNING_ALG],
        typ,
        issuer: options.issuer,
        audience,
        requiredClaims: [...REQUIRED_CLAIMS],
        currentDate,
        clockTolerance,
      });
      verified = { payload, kid: protectedHeader.kid };
    } catch (err) {
      return failure(err, schema);
    }
  }
  const claims = schema.safeParse(verified.payload);
  if (!claims.success) return { ok: false, reason: 'invalid', detail: 'claims have the wrong shape' };
  return { ok: true, claims: claims.data, kid: verified.kid };
}

function failure<C>(err: unknown, schema: z.ZodType<C>): TokenCheck<C> {
  if (err instanceof errors.JWTExpired) {
    const claims = schema.safeParse(err.payload as JWTPayload);
    return { ok: false, reason: 'expired', detail: 'token expired', ...(claims.success ? { claims: claims.data } : {}) };
  }
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') {
    return { ok: false, reason: 'not_yet_valid', detail: 'token not yet valid' };
  }
  if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: 'invalid', detail: claimDetail(err) };
  if (err instanceof errors.JOSEError) return { ok: false, reason: 'invalid', detail: PLAIN[err.code] ?? 'not a valid token' };
  // jose raises TypeError for some garbage input (e.g. a key set that cannot be read).
  return { ok: false, reason: 'invalid', detail: 'not a readable token' };
}

/** jose's error codes in plain words: a refusal's detail never shows a library's internal code. */
const PLAIN: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the signature does not match the issuer\'s key',
  ERR_JWKS_NO_MATCHING_KEY: 'signed by a key the issuer does not publish',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'signed by a key the issuer does not publish',
  ERR_JOSE_ALG_NOT_ALLOWED: `not signed with ${SIGNING_ALG}`,
  ERR_JOSE_NOT_SUPPORTED: `not signed with ${SIGNING_ALG}`,
  ERR_JWS_INVALID: 'not a well-formed signed token',
  ERR_JWT_INVALID: 'the token\'s claims are not a JSON object',
  ERR_JWKS_TIMEOUT: 'the issuer\'s keys could not be fetched in time',
  ERR_JWKS_INVALID: 'the issuer\'s key set cannot be read',
  ERR_JWK_INVALID: 'the issuer\'s key set cannot be read',
};

function claimDetail(err: InstanceType<typeof errors.JWTClaimValidationFailed>): string {
  if (err.reason === 'missing') return `the ${err.claim} claim is missing`;
  if (err.claim === 'typ') return 'the token is of another type';
  if (err.claim === 'iss') return 'the token is from another issuer';
  if (err.claim === 'aud') return 'the token is meant for another audience';
  return `the ${err.claim} claim is not valid`;
}

/**
 * Checks an API key: signature against `key` (a local or remote JWKS), `typ` {@link API_KEY_TYP},
 * `iss`, `aud`, times and claims. A sign-in token is refused here.
 */
export function checkApiKey(token: string, key: JWTVerifyGetKey, options: CheckOptions): Promise<TokenCheck<ApiKeyClaims>> {
  return check(token, key, API_KEY_TYP, options.audience ?? '', apiKeyClaims, options);
}

/** Checks a sign-in token (`typ` {@link SESSION_TYP}, `aud` {@link SESSION_AUDIENCE}). An API key is refused here. */
export function checkSession(token: string, key: JWTVerifyGetKey, options: CheckOptions): Promise<TokenCheck<SessionClaims>> {
  return check(token, key, SESSION_TYP, SESSION_AUDIENCE, sessionClaims, options);
}
