/**
 * The issuer's Prometheus metrics, on a registry of its own (no global state).
 */
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Options of {@link createIssuerMetrics}. */
export interface IssuerMetricsOptions {
  /** Current outbox backlog, read at scrape time. */
  backlog: () => Promise<number>;
  /** Whether the event bus is connected, read at scrape time. */
  busConnected: () => boolean;
  /** Entries the sign-in guard holds, read at scrape time. */
  loginGuardEntries: () => Promise<number>;
  /** Collect Node's process metrics too (off in tests). */
  processMetrics?: boolean;
}

/** Creates the issuer's registry and metrics. */
export function createIssuerMetrics(options: IssuerMetricsOptions) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'akm_issuer_' });
  const duration = new Histogram({
    name: 'akm_issuer_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const keysIssued = new Counter({ name: 'akm_issuer_keys_issued_total', help: 'Keys issued', registers: [registry] });
  const eventsPublished = new Counter({
    name: 'akm_issuer_events_published_total',
    help: 'Key events acknowledged by the event bus',
    registers: [registry],
  });
  const usageRequests = new Counter({
    name: 'akm_issuer_usage_requests_total',
    help: 'Requests reported by verifiers, by outcome, as applied to the usage counts (all keys together)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const usageReports = new Counter({
    name: 'akm_issuer_usage_reports_total',
    help: 'Usage reports consumed: applied, duplicate (applied before, nothing added) or invalid (terminated)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'akm_issuer_outbox_backlog',
    help: 'Key events written but not yet acknowledged by the event bus',
    registers: [registry],
    async collect() {
      // A database that cannot answer leaves the gauge at its last value; /readyz says why.
      const backlog = await options.backlog().catch(() => undefined);
      if (backlog !== undefined) this.set(backlog);
    },
  });
  new Gauge({
    name: 'akm_issuer_event_bus_connected',
    help: '1 while the event bus is connected',
    registers: [registry],
    collect() {
      this.set(options.busConnected() ? 1 : 0);
    },
  });

  new Gauge({
    name: 'akm_issuer_login_guard_entries',
    help: 'Attempt counts and known addresses the sign-in guard holds (bounded by what it allows, not by what is sent)',
    registers: [registry],
    async collect() {
      const entries = await options.loginGuardEntries().catch(() => undefined);
      if (entries !== undefined) this.set(entries);
    },
  });

  const observe: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: res.statusCode });
    });
    next();
  };

  return { registry, observe, keysIssued, eventsPublished, usageRequests, usageReports };
}

export type IssuerMetrics = ReturnType<typeof createIssuerMetrics>;
