/**
 * Who is calling the issuer. Admin routes take a sign-in token (typ `akm-session+jwt`) with
 * role admin; self-service routes take the caller's own API key. Neither is ever accepted in
 * place of the other.
 */
import type { RequestHandler, Response } from 'express';
import { decodeProtectedHeader } from 'jose';
import {
  API_KEY_TYP,
  AppError,
  checkApiKey,
  checkSession,
  readBearer,
  SESSION_TYP,
  type Role,
  type SessionClaims,
} from '@akm/common';
import { ownerMayHold, type KeyOwners, type KeyRecord } from '../domain/key-record.js';
import type { KeyService } from '../domain/key-service.js';
import type { SigningKeys } from '../domain/signing-keys.js';

/** The authenticated caller, in `res.locals.principal`. */
export interface Principal {
  sub: string;
  role: Role;
  kind: 'session' | 'api_key';
  /** The key id, for an API key. */
  keyId?: string;
  /** The sign-in token's id (`jti`) and expiry (seconds since epoch), for a sign-in. */
  session?: { jti: string; expiresAt: number };
}

/** Options of {@link createAuth}. */
export interface AuthOptions {
  signing: SigningKeys;
  /** Where an API key's stored state is read. */
  keys: Pick<KeyService, 'getKey'>;
  issuer: string;
  audience: string;
  now: () => number;
  /** Extra check of a valid sign-in token (e.g. that its user still exists); false refuses it. */
  acceptSession?: (claims: SessionClaims) => boolean | Promise<boolean>;
  /**
   * Who is a user: an API key counts as an admin only while its owner is an active one (its
   * signed role alone may predate a demotion). Without it, the key's role.
   */
  owners?: KeyOwners;
}

function bearer(header: string | undefined): string {
  const read = readBearer(header);
  if (read.ok) return read.token;
  if (read.reason === 'missing_credentials') {
    throw new AppError('missing_credentials', 'Authorization: Bearer <token> required');
  }
  throw new AppError('malformed_credentials', 'Authorization header is not "Bearer <token>"');
}

/** The principal set by one of the auth middlewares. */
export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The API key record set by `requireApiKey`. */
export function apiKeyOf(res: Response): KeyRecord {
  return res.locals.apiKey as KeyRecord;
}

/** Creates the issuer's auth middlewares. */
export function createAuth(options: AuthOptions) {
  const { signing, now } = options;
  const currentDate = () => new Date(now());

  async function session(header: string | undefined): Promise<Principal> {
    const token = bearer(header);
    const result = await checkSession(token, signing.getKey, { issuer: options.issuer, currentDate: currentDate() });
    if (!result.ok) {
      if (result.reason === 'expired') throw new AppError('token_expired', 'sign-in token expired');
      // Refused either way; the (unverified) header only makes the message say what was sent.
      if (headerTyp(token) === API_KEY_TYP) {
        throw new AppError('invalid_token', 'this is an API key; this route needs a sign-in token (POST /auth/login)');
      }
      throw new AppError('invalid_token', 'not a valid sign-in token');
    }
    if (options.acceptSession && !(await options.acceptSession(result.claims))) {
      throw new AppError('invalid_token', 'sign-in no longer valid');
    }
    return {
      sub: result.claims.sub,
      role: result.claims.role,
      kind: 'session',
      session: { jti: result.claims.jti, expiresAt: result.claims.exp },
    };
  }

  async function apiKey(header: string | undefined): Promise<KeyRecord> {
    const token = bearer(header);
    const result = await checkApiKey(token, signing.getKey, {
      issuer: options.issuer,
      audience: options.audience,
      currentDate: currentDate(),
    });
    const claims = result.ok ? result.claims : result.reason === 'expired' ? result.claims : undefined;
    if (!claims) {
      if (!result.ok && result.reason === 'not_yet_valid') throw new AppError('key_not_yet_valid', 'key not yet valid');
      if (headerTyp(token) === SESSION_TYP) throw new AppError('invalid_key', 'this is a sign-in token; this route needs an API key');
      throw new AppError('invalid_key', 'not a valid API key');
    }
    const record = await options.keys.getKey(claims.jti);
    if (!record) throw new AppError('invalid_key', 'not a valid API key');
    if (record.status === 'revoked') throw new AppError('key_revoked', 'key revoked');
    if (record.revokeAt !== null && record.revokeAt <= now() / 1000) throw new AppError('key_revoked', 'key revoked: it was rolled and its grace period ended');
    // The stored expiry wins over the signed one: an admin may have shortened or extended it.
    if (record.expiresAt <= Math.floor(now() / 1000)) throw new AppError('key_expired', 'key expired');
    return record;
  }

  const requireSession: RequestHandler = async (req, res, next) => {
    res.locals.principal = await session(req.get('authorization'));
    next();
  };

  const requireAdmin: RequestHandler = async (req, res, next) => {
    const principal = await session(req.get('authorization'));
    if (principal.role !== 'admin') throw new AppError('forbidden', 'admin role required');
    res.locals.principal = principal;
    next();
  };

  /** The role an API key acts with: its own, but never more than its owner's now. */
  const keyRole = async (record: KeyRecord): Promise<Role> =>
    options.owners && !ownerMayHold(await options.owners.get(record.sub), record.role) ? 'user' : record.role;

  const requireApiKey: RequestHandler = async (req, res, next) => {
    const record = await apiKey(req.get('authorization'));
    res.locals.apiKey = record;
    res.locals.principal = { sub: record.sub, role: await keyRole(record), kind: 'api_key', keyId: record.id } satisfies Principal;
    next();
  };

  /** A sign-in token or an active API key. */
  const requireCaller: RequestHandler = async (req, res, next) => {
    const header = req.get('authorization');
    const token = bearer(header);
    const typ = headerTyp(token);
    if (typ === API_KEY_TYP) {
      const record = await apiKey(header);
      if (record.status === 'disabled') throw new AppError('key_disabled', 'key disabled');
      res.locals.principal = { sub: record.sub, role: await keyRole(record), kind: 'api_key', keyId: record.id } satisfies Principal;
    } else {
      res.locals.principal = await session(header);
    }
    next();
  };

  return { requireSession, requireAdmin, requireApiKey, requireCaller };
}

function headerTyp(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).typ;
  } catch {
    return undefined;
  }
}
