/**
 * The one place where a refusal becomes HTTP: its problem code (whose status comes from
 * common's single code → status table) and the headers it must carry.
 */
import type { Response } from 'express';
import { sendProblem, type ErrorCode } from '@akm/common';
import type { AccessRefusal } from '../domain/access-decision.js';
import type { Refusal } from '../domain/verdict.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

const CODES: Record<Refusal, ErrorCode> = {
  missing_credentials: 'missing_credentials',
  malformed_credentials: 'malformed_credentials',
  invalid: 'invalid_key',
  expired: 'key_expired',
  not_yet_valid: 'key_not_yet_valid',
  revoked: 'key_revoked',
  disabled: 'key_disabled',
  forbidden: 'forbidden',
  insufficient_scope: 'insufficient_scope',
  rate_limited: 'rate_limited',
  credits_exhausted: 'credits_exhausted',
  unavailable: 'unavailable',
};

/** A refusal as it goes on the wire. */
export interface RefusalProblem {
  code: ErrorCode;
  headers: Record<string, string>;
}

/** Maps a refusal to its problem code and headers (`WWW-Authenticate` on 401s, RFC 6750). */
export function problemFor(reason: Refusal): RefusalProblem {
  const code = CODES[reason];
  // A fresh object each time: sendRefusal adds to it.
  if (reason === 'missing_credentials') return { code, headers: { 'WWW-Authenticate': 'Bearer realm="akm"' } };
  if (reason === 'malformed_credentials') {
    return { code, headers: { 'WWW-Authenticate': 'Bearer realm="akm", error="invalid_request"' } };
  }
  if (code === 'invalid_key' || code.startsWith('key_')) {
    return { code, headers: { 'WWW-Authenticate': 'Bearer realm="akm", error="invalid_token"' } };
  }
  return { code, headers: {} };
}

/**
 * Answers a refused request with its problem: `WWW-Authenticate` on 401s, the RateLimit
 * fields once the key's window was read, and `Retry-After` when rate limited.
 */
export function sendRefusal(res: Response, refusal: AccessRefusal): void {
  const problem = problemFor(refusal.reason);
  const { window, windows } = refusal;
  const headers = window && windows ? { ...problem.headers, ...rateLimitHeaders({ window, windows }) } : problem.headers;
  if (refusal.requiredScopes) {
    // RFC 6750 §3.1: the scope the resource needs, space-delimited.
    headers['WWW-Authenticate'] = `Bearer realm="akm", error="insufficient_scope", scope="${refusal.requiredScopes.join(' ')}"`;
  }
  if (refusal.retryAfterSeconds !== undefined) headers['Retry-After'] = String(refusal.retryAfterSeconds);
  sendProblem(res, problem.code, refusal.detail, { headers });
}
