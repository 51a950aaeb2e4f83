/**
 * Forward auth: the check a gateway (nginx `auth_request`, Traefik ForwardAuth, Envoy
 * `ext_authz`) delegates a request to. It takes the same access decision as `protect()` —
 * signature, stream state, rate limit counted once, role — and answers 200 with who the key
 * is (`X-Akm-Key-Id`, `X-Akm-Sub`, `X-Akm-Role`) and the RateLimit fields, or the refusal's
 * problem+json.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { parseInput, type Role } from '@akm/common';
import type { AccessDecider, AccessOptions } from '../domain/access-decision.js';
import type { DecisionRecorder } from './decision-log.js';
import { forwardAuthQuery, type ForwardAuthAnswer } from './forward-auth-schemas.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { sendRefusal } from './refusal-problems.js';

/** Collaborators of {@link createForwardAuth}. */
export interface ForwardAuthDeps {
  access: AccessDecider;
  record: DecisionRecorder;
}

/** Headers a gateway copies onto the request it lets through to its upstream. */
export const FORWARD_AUTH_HEADERS = { keyId: 'X-Akm-Key-Id', sub: 'X-Akm-Sub', role: 'X-Akm-Role', scope: 'X-Akm-Scope' } as const;

/** Options of one forward-auth endpoint. */
export interface ForwardAuthOptions {
  /**
   * Whether the query is this endpoint's own (`roles=a,b`, `scopes=x,y`, anything else refused). False where
   * the gateway appends the original request's path and query (Envoy `ext_authz`): the query is
   * then ignored. Default true.
   */
  query?: boolean;
  /** Roles allowed when the query is not read; any role when omitted. */
  roles?: readonly Role[];
  /** Scopes required when the query is not read; none when omitted. */
  scopes?: readonly string[];
}

/** Creates the forward-auth handler (mount it for every method: gateways forward the method they got). */
export function createForwardAuth(deps: ForwardAuthDeps, options: ForwardAuthOptions = {}): RequestHandler {
  const fixed: AccessOptions | undefined =
    options.roles || options.scopes ? { roles: options.roles, scopes: options.scopes } : undefined;
  return async function forwardAuth(req, res) {
    const started = performance.now();
    let access = fixed;
    if (options.query !== false) {
      const { roles, scopes } = parseInput(forwardAuthQuery, req.query, 'query');
      if (roles || scopes) access = { roles: roles ?? fixed?.roles, scopes: scopes ?? fixed?.scopes };
    }
    const decision = await deps.access.decide(req.get('authorization'), access);
    deps.record(req, res, started, decision);
    if (!decision.ok) return sendRefusal(res, decision);
    const { key } = decision;
    res.set(rateLimitHeaders(decision));
    res.set(FORWARD_AUTH_HEADERS.keyId, key.id);
    res.set(FORWARD_AUTH_HEADERS.sub, key.sub);
    res.set(FORWARD_AUTH_HEADERS.role, key.role);
    res.set(FORWARD_AUTH_HEADERS.scope, key.scopes.join(' '));
    // A gateway may not cache a decision: the next request counts and may be refused.
    res.set('Cache-Control', 'no-store');
    const answer: ForwardAuthAnswer = { keyId: key.id, sub: key.sub, role: key.role, scopes: [...key.scopes] };
    res.json(answer);
  };
}
