/**
 * Records one access decision: counted and timed in metrics, counted in the key's usage, and
 * logged with the key id and owner (never the key string). Shared by every HTTP entry that decides on a key.
 */
import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import { addRequestLogFields, requestIdOf, type Logger } from '@akm/common';
import type { AccessDecision } from '../domain/access-decision.js';
import type { UsageTally } from '../domain/usage-tally.js';
import type { VerifierMetrics } from '../verifier-metrics.js';

/** Records `decision`, taken since `started` (`performance.now()` milliseconds). */
export type DecisionRecorder = (req: Request, res: Response, started: number, decision: AccessDecision) => void;

/** Creates the recorder over a verifier's metrics, logger and (when it reports them) per-key usage counts. */
export function createDecisionRecorder(metrics: VerifierMetrics, logger: Logger, usage?: UsageTally): DecisionRecorder {
  return (req, res, started, decision) => {
    const seconds = (performance.now() - started) / 1000;
    const outcome = decision.ok ? 'ok' : decision.reason;
    metrics.observe(outcome, seconds);
    const keyId = decision.ok ? decision.key.id : decision.keyId;
    if (keyId !== undefined) usage?.record(keyId, outcome);
    const fields = decision.ok
      ? { keyId: decision.key.id, sub: decision.key.sub, outcome, latencyMs: seconds * 1000 }
      : { keyId: decision.keyId, sub: decision.sub, outcome, latencyMs: seconds * 1000 };
    // One line per request: in an app with akm's request log the decision joins its line (a
    // second JSON line per request cost ~8% of the verifier's CPU); elsewhere it has its own.
    if (addRequestLogFields(res, fields)) return;
    (req.log ?? logger).info({ requestId: requestIdOf(res), ...fields }, 'api key checked');
  };
}
