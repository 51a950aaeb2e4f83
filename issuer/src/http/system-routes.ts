/**
 * Health, readiness, metrics, the JWKS and signing-key rotation.
 */
import { Router, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { metricsAccess } from '@akm/common';
import type { SigningKeys } from '../domain/signing-keys.js';

/** Readiness facts of the issuer. */
export interface IssuerReadiness {
  /** Which database the issuer keeps its data in. */
  databaseKind: 'sqlite' | 'postgres';
  /** Rejects when the database cannot answer. */
  checkDatabase: () => Promise<void>;
  bus: () => 'connected' | 'disconnected' | 'in-process';
  backlog: () => Promise<number>;
  /** Where the token pool lives and whether it answers (Redis connected; otherwise it is the database). */
  poolStore: () => { kind: 'redis' | 'sqlite' | 'postgres'; ok: boolean };
}

/** One dependency in the `/readyz` answer. */
interface DependencyState {
  state: string;
  /** Whether the issuer is unready (503) without it. */
  required: boolean;
  [detail: string]: unknown;
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

  // Every dependency with its state. Only the database is required: without NATS the API keeps
  // working (changes wait in the outbox), without Redis only the token pool is down (its routes
  // answer 503), so a load balancer must not take the whole issuer out for either: the issuer
  // is then "degraded", still 200.
  router.get('/readyz', async (_req, res) => {
    let backlog: number | null = null;
    try {
      await readiness.checkDatabase();
      backlog = await readiness.backlog();
    } catch {
      backlog = null;
    }
    const databaseOk = backlog !== null;
    const bus = readiness.bus();
    const pool = readiness.poolStore();
    const poolOk = pool.kind === 'redis' ? pool.ok : databaseOk;
    const dependencies: Record<string, DependencyState> = {
      database: { kind: readiness.databaseKind, state: databaseOk ? 'ok' : 'unavailable', required: true },
      eventBus: { state: bus, required: false },
      poolStore: { kind: pool.kind, state: poolOk ? 'ok' : 'unavailable', required: false },
    };
    const degraded = bus === 'disconnected' || !poolOk;
    res.status(databaseOk ? 200 : 503).json({
      status: !databaseOk ? 'not_ready' : degraded ? 'degraded' : 'ready',
      dependencies,
      outboxBacklog: backlog,
    });
  });

  router.get('/metrics', metricsAccess({ token: options.metricsToken }), async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  router.get('/.well-known/jwks.json', async (_req, res) => {
    res.set('Cache-Control', 'public, max-age=60').json(await signing.jwks());
  });

  router.post('/admin/signing-keys/rotate', options.requireAdmin, async (_req, res) => {
    const kid = await signing.rotate();
    // `next` is already in the JWKS: it signs from the next rotation on.
    res.status(201).json({ kid, next: (await signing.nextKid()) ?? null });
  });

  return router;
}
