/**
 * Health, readiness, metrics, the JWKS and signing-key rotation.
 */
import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { metricsAccess } from '@akm/common';
import type { SigningKeys } from '../domain/signing-keys.js';

/** Readiness facts of the issuer. */
export interface IssuerReadiness {
  /** Throws when SQLite cannot answer. */
  checkDatabase: () => void;
  bus: () => 'connected' | 'disconnected' | 'in-process';
  backlog: () => number;
}

/** Options of {@link createSystemRoutes}. */
export interface SystemRoutesOptions {
  signing: SigningKeys;
  registry: Registry;
  readiness: IssuerReadiness;
  requireAdmin: RequestHandler;
  /** Bearer token `/metrics` requires; unset serves clients on this host only. */
  metricsToken?: string | undefined;
}

/** Creates the router of the system endpoints. */
export function createSystemRoutes(options: SystemRoutesOptions): Router {
  const { signing, registry, readiness } = options;
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', (_req, res) => {
    let backlog: number | null = null;
    try {
      readiness.checkDatabase();
      backlog = readiness.backlog();
    } catch {
      backlog = null;
    }
    const ready = backlog !== null;
    // The API keeps working without NATS (the outbox holds events), so the bus does not decide readiness.
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      database: ready ? 'ok' : 'unavailable',
      eventBus: readiness.bus(),
      outboxBacklog: backlog,
    });
  });

  router.get('/metrics', metricsAccess({ token: options.metricsToken }), async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=60').json(signing.jwks());
  });

  router.post('/admin/signing-keys/rotate', options.requireAdmin, async (_req, res) => {
    const kid = await signing.rotate();
    // `next` is already in the JWKS: it signs from the next rotation on.
    res.status(201).json({ kid, next: signing.nextKid() ?? null });
  });

  return router;
}
