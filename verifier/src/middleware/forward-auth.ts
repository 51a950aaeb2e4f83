/**
 * Forward auth: the check a gateway (nginx `auth_request`, Traefik ForwardAuth, Envoy
 * `ext_authz`) delegates a request to. It takes the same access decision as `protect()` —
 * signature, stream state, rate limit counted once, role — and answers 200 with who the key
 * is (`X-Akm-Key-Id`, `X-Akm-Sub`, `X-Akm-Role`) and the RateLimit fields, or the refusal's
 * problem+json.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { parseInput } from '@akm/common';
import type { AccessDecider } from '../domain/access-decision.js';
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
export const FORWARD_AUTH_HEADERS = { keyId: 'X-Akm-Key-Id', sub: 'X-Akm-Sub', role: 'X-Akm-Role' } as const;

/** Creates the forward-auth handler (mount it for every method: gateways forward the method they got). */
export function createForwardAuth(deps: ForwardAuthDeps): RequestHandler {
  return async function forwardAuth(req, res) {
    const started = performance.now();
    const { roles } = parseInput(forwardAuthQuery, req.query, 'query');
    const decision = await deps.access.decide(req.get('authorization'), roles ? { roles } : undefined);
    deps.record(req, res, started, decision);
    if (!decision.ok) return sendRefusal(res, decision);
    const { key } = decision;
    res.set(rateLimitHeaders(decision.window));
    res.set(FORWARD_AUTH_HEADERS.keyId, key.id);
    res.set(FORWARD_AUTH_HEADERS.sub, key.sub);
    res.set(FORWARD_AUTH_HEADERS.role, key.role);
    // A gateway may not cache a decision: the next request counts and may be refused.
    res.set('Cache-Control', 'no-store');
    const answer: ForwardAuthAnswer = { keyId: key.id, sub: key.sub, role: key.role };
    res.json(answer);
  };
}
