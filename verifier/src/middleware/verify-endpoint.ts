/**
 * `POST /v1/verify {"key": "…"}`: for a service that prefers to ask rather than embed the
 * verifier or sit behind a gateway. The same access decision as `protect()`; it counts against
 * the key's limit unless `"consume": false`. 200 means the question was answered, whatever the
 * answer; 503 that it cannot be answered now (the key stream is not replayed or too stale).
 *
 * It is no oracle: it answers only what the key string itself proves. A forged or mangled
 * string gets `invalid_key` and nothing else, never the state of the key it names; the owner,
 * role and limit come back only for a string whose signature is the issuer's.
 */
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { parseInput, sendProblem } from '@akm/common';
import type { AccessDecider, AccessDecision } from '../domain/access-decision.js';
import type { RateWindow } from '../domain/rate-limiter.js';
import type { DecisionRecorder } from './decision-log.js';
import { problemFor } from './refusal-problems.js';
import { verifyBody, type VerifyAnswer } from './verify-schemas.js';

/** Collaborators of {@link createVerifyEndpoint}. */
export interface VerifyEndpointDeps {
  access: AccessDecider;
  record: DecisionRecorder;
}

/** Creates the handler of `POST /v1/verify`; mount it after a JSON body parser. */
export function createVerifyEndpoint(deps: VerifyEndpointDeps): RequestHandler {
  return async function verifyEndpoint(req, res) {
    const started = performance.now();
    const body = parseInput(verifyBody, req.body, 'request');
    const decision = await deps.access.decideKey(body.key, { consume: body.consume });
    deps.record(req, res, started, decision);
    if (!decision.ok && decision.reason === 'unavailable') return sendProblem(res, 'unavailable', decision.detail);
    res.set('Cache-Control', 'no-store').json(answerOf(decision));
  };
}

const windowView = (w: RateWindow) => ({
  name: w.name,
  limit: w.limit,
  windowSeconds: w.windowSeconds,
  remaining: w.remaining,
  reset: w.resetSeconds,
});

function answerOf(decision: AccessDecision): VerifyAnswer {
  if (decision.ok) {
    const { key, window, windows } = decision;
    return {
      valid: true,
      keyId: key.id,
      sub: key.sub,
      role: key.role,
      scopes: [...key.scopes],
      expiresAt: new Date(key.expiresAt * 1000).toISOString(),
      limit: window.limit,
      remaining: window.remaining,
      reset: window.resetSeconds,
      limits: windows.map(windowView),
      ...(decision.credits ? { credits: decision.credits.remaining } : {}),
    };
  }
  const code = problemFor(decision.reason).code as Extract<VerifyAnswer, { valid: false }>['code'];
  if (decision.reason === 'credits_exhausted') {
    const retry = decision.retryAfterSeconds;
    return { valid: false, code, detail: decision.detail, ...(retry === undefined ? {} : { retryAfter: retry }) };
  }
  if (decision.reason !== 'rate_limited' || !decision.window) return { valid: false, code, detail: decision.detail };
  const { window } = decision;
  return {
    valid: false,
    code,
    detail: decision.detail,
    limit: window.limit,
    remaining: window.remaining,
    reset: window.resetSeconds,
    retryAfter: decision.retryAfterSeconds ?? window.resetSeconds,
  };
}
