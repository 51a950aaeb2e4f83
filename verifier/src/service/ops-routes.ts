/**
 * Operations routes: `/healthz` (the process answers), `/readyz` (replayed and not too stale:
 * 503 `unavailable` otherwise), `/metrics` (Prometheus text, behind the metrics guard) and the admin-only
 * `GET /admin/verifier` (the same report, for an operator holding an admin key).
 */
import type { IRouter, RequestHandler } from 'express';
import { sendProblem } from '@akm/common';
import type { Verifier } from '../create-verifier.js';

/** Adds the operations routes of a verifier service to `router`. */
export function opsRoutes(router: IRouter, verifier: Verifier, adminGuard: RequestHandler, metricsGuard: RequestHandler): void {
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const report = verifier.readiness();
    if (!report.ready) return sendProblem(res, 'unavailable', report.detail ?? 'not ready');
    res.json({ status: 'ready', ...report });
  });
  router.get('/metrics', metricsGuard, async (_req, res) => {
    const { registry } = verifier.metrics;
    res.type(registry.contentType).send(await registry.metrics());
  });
  router.get('/admin/verifier', adminGuard, (_req, res) => {
    res.json(verifier.readiness());
  });
}
