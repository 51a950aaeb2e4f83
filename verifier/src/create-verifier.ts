/**
 * The verifier library's factory: wires the key source, the key-state store fed by the key
 * stream, readiness, the rate limiter and metrics into `verify(token)` and Express middleware.
 */
import type { RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import {
  createLogger,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  isUsageSource,
  type KeyEventFeed,
  type KeyEventRejectionHandler,
  type Logger,
  type UsagePublisher,
} from '@akm/common';
import { createEventGuard } from './domain/event-guard.js';
import { createAccessDecision, type AccessDecision, type AccessOptions } from './domain/access-decision.js';
import { createKeyStateStore } from './domain/key-state-store.js';
import { createKeyVerifier } from './domain/key-verifier.js';
import type { RateLimiter } from './domain/rate-limiter.js';
import { createReadiness, type ReadinessReport } from './domain/readiness.js';
import { createUsageReporter, type UsageReporter } from './domain/usage-reporter.js';
import { createUsageTally, type UsageTally } from './domain/usage-tally.js';
import type { Verdict } from './domain/verdict.js';
import { createDecisionRecorder } from './middleware/decision-log.js';
import { createForwardAuth, type ForwardAuthOptions } from './middleware/forward-auth.js';
import { createProtect, type ProtectOptions } from './middleware/protect.js';
import { createVerifyEndpoint } from './middleware/verify-endpoint.js';
import { createMemoryRateLimiter } from './store/memory-rate-limiter.js';
import type { KeySource } from './store/key-source.js';
import { createVerifierMetrics, type VerifierMetrics } from './verifier-metrics.js';

/** Default staleness bound, in seconds: see docs/verifier.md for why. */
export const DEFAULT_MAX_STALENESS_SECONDS = 300;
/** Default longest key lifetime, in seconds: the issuer's default `AKM_MAX_KEY_TTL_S` (365 days). */
export const DEFAULT_MAX_KEY_LIFETIME_SECONDS = 365 * 24 * 3600;

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** The issuer's public keys (JWKS URL or file). */
  keys: KeySource;
  /** The key event stream (JetStream, or the in-process bus). */
  feed: KeyEventFeed;
  /** Where requests are counted; a per-process memory limiter when omitted. */
  limiter?: RateLimiter;
  logger?: Logger;
  /** Metrics to record into; a new registry when omitted. */
  metrics?: VerifierMetrics;
  /** The clock, milliseconds since epoch. Default `Date.now`. */
  now?: () => number;
  /** Expected `iss`. Default `akm`. */
  issuer?: string;
  /** Expected `aud`. Default `akm-api`. */
  audience?: string;
  /** Seconds out of touch with the key stream after which every request is refused (503). Default 300. */
  maxStalenessSeconds?: number;
  /**
   * Seconds after its `iat` during which a key the stream has not mentioned yet is accepted on
   * its signed claims (its `key.created` event may still be on its way). Default 300.
   */
  newKeyGraceSeconds?: number;
  /**
   * The issuer's longest key lifetime (`AKM_MAX_KEY_TTL_S`), in seconds. An event whose
   * `expiresAt` lies further ahead (plus an hour of leeway) is dropped as forged. Default 365 days.
   */
  maxKeyLifetimeSeconds?: number;
  /** Allowed clock skew on signed times, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Key strings whose signature check is remembered (LRU); 0 turns the cache off. Default 10 000. */
  cacheSize?: number;
  /**
   * Where per-key usage counts go (`createJetStreamUsagePublisher({ nc })`, or the issuer's
   * in-process bus). Without it nothing is counted per key.
   */
  usage?: UsagePublisher;
  /** Milliseconds between usage reports. Default 5000. */
  usageIntervalMs?: number;
  /** This instance's name in usage reports: letters, digits, `_` and `-`. Default a random UUID. */
  usageSource?: string;
}

/** A verifier: a key check, Express middleware, and its lifecycle. */
export interface Verifier {
  /** Verifies a key string (no rate limit, no role). */
  verify(token: string): Promise<Verdict>;
  /** Middleware guarding a route: a valid key, within its rate limit, with an allowed role. */
  protect(options?: ProtectOptions): RequestHandler;
  /**
   * The decision `protect()` takes, for other frameworks: an `Authorization` header value in,
   * `{ ok: true, key, window } | { ok: false, reason, detail, … }` out. It counts the request
   * (unless `consume: false`) but records no metric or log line.
   */
  decide(authorization: string | undefined, options?: AccessOptions): Promise<AccessDecision>;
  /** The same decision on a key string given as it is (e.g. in a request body). */
  decideKey(key: string, options?: AccessOptions): Promise<AccessDecision>;
  /**
   * A forward-auth handler for gateways (nginx `auth_request`, Traefik ForwardAuth, Envoy
   * `ext_authz`): 200 with `X-Akm-Key-Id`, `X-Akm-Sub`, `X-Akm-Role` and the RateLimit fields,
   * or the refusal as `protect()` answers it. Query `roles=a,b` restricts the roles.
   */
  forwardAuth(options?: ForwardAuthOptions): RequestHandler;
  /**
   * The handler of `POST /v1/verify {"key", "consume"?}` (mount it after a JSON body parser):
   * 200 `{ valid: true, keyId, sub, role, expiresAt, limit, remaining, reset }` or
   * `{ valid: false, code, detail }`, answering only what the key string proves.
   */
  verifyEndpoint(): RequestHandler;
  /** Starts following the key stream; resolves once it was replayed (requests get 503 until then). */
  start(): Promise<void>;
  /** Stops following the key stream. */
  stop(): Promise<void>;
  readiness(): ReadinessReport;
  /** Reads a key's window without counting a request. */
  limiter: RateLimiter;
  metrics: VerifierMetrics;
}

/**
 * Creates a verifier of akm API keys that never calls the issuer.
 * @example
 * import express from 'express';
 * import { connectNats } from '<akm>/common/src/index.js';
 * import { createVerifier, createJetStreamKeyFeed, loadKeySourceFile, verifiedKeyOf } from '<akm>/verifier/src/index.js';
 *
 * const nc = await connectNats({ url: 'nats://localhost:4222', name: 'orders' });
 * const verifier = createVerifier({ keys: await loadKeySourceFile('./jwks.json'), feed: createJetStreamKeyFeed({ nc }) });
 * const app = express();
 * app.get('/orders', verifier.protect({ roles: ['user', 'admin'] }), (_req, res) => {
 *   res.json({ owner: verifiedKeyOf(res).sub });
 * });
 * await verifier.start();
 * app.listen(3000);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? createLogger({ name: 'akm-verifier' });
  const metrics = options.metrics ?? createVerifierMetrics();
  const limiter = options.limiter ?? createMemoryRateLimiter();
  const grace = options.newKeyGraceSeconds ?? 300;
  const store = createKeyStateStore({ now, retainSeconds: grace });
  const readiness = createReadiness({
    feed: options.feed,
    now,
    maxStalenessSeconds: options.maxStalenessSeconds ?? DEFAULT_MAX_STALENESS_SECONDS,
  });
  const verify = createKeyVerifier({
    keys: options.keys,
    store,
    readiness,
    now,
    issuer: options.issuer ?? DEFAULT_ISSUER,
    audience: options.audience ?? DEFAULT_KEY_AUDIENCE,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
    newKeyGraceSeconds: grace,
    cacheSize: options.cacheSize ?? 10_000,
  });
  metrics.track({
    keyStateEntries: () => store.size(),
    stalenessSeconds: () => readiness.check().stalenessSeconds,
    replayed: () => readiness.check().replayed,
  });
  const usage = options.usage ? createUsage(options, options.usage, now, logger, metrics) : undefined;
  const reject: KeyEventRejectionHandler = (rejection) => {
    metrics.badEvent(rejection.reason);
    logger.warn(rejection, 'dropped a key event');
  };
  const applyEvent = createEventGuard({
    store,
    now,
    maxKeyLifetimeSeconds: options.maxKeyLifetimeSeconds ?? DEFAULT_MAX_KEY_LIFETIME_SECONDS,
    onRejected: reject,
    onVersionJump: (event, heldVersion) =>
      logger.warn({ keyId: event.keyId, heldVersion, version: event.version, type: event.type }, 'key event version jumped absurdly; applied'),
  });
  let starting: Promise<void> | undefined;

  const access = createAccessDecision({ verify, limiter, now });
  const record = createDecisionRecorder(metrics, logger, usage?.tally);

  return {
    verify,
    protect: createProtect({ access, record }),
    decide: access.decide,
    decideKey: access.decideKey,
    forwardAuth: (forwardOptions) => createForwardAuth({ access, record }, forwardOptions),
    verifyEndpoint: () => createVerifyEndpoint({ access, record }),
    start() {
      usage?.reporter.start();
      starting ??= (async () => {
        await options.feed.start(applyEvent, reject);
        readiness.markReplayed();
        logger.info({ keys: store.size(), jwks: options.keys.origin }, 'key stream replayed; ready');
      })();
      return starting;
    },
    async stop() {
      await options.feed.stop();
      // After the HTTP server stopped (the service stops it first), so every request is in it.
      await usage?.reporter.stop();
    },
    readiness: () => ({ ...readiness.check(), rateLimits: limiter.counting?.() ?? 'local' }),
    limiter,
    metrics,
  };
}

function createUsage(
  options: VerifierOptions,
  publisher: UsagePublisher,
  now: () => number,
  logger: Logger,
  metrics: VerifierMetrics,
): { tally: UsageTally; reporter: UsageReporter } {
  const source = options.usageSource ?? randomUUID();
  if (!isUsageSource(source)) throw new TypeError('createVerifier: usageSource must be 1-100 letters, digits, _ or -');
  const tally = createUsageTally({ now, onDropped: (n) => metrics.usageLost(n) });
  const reporter = createUsageReporter({
    tally,
    publisher,
    source,
    intervalMs: options.usageIntervalMs ?? 5000,
    logger,
    onReport: (result) => metrics.usageReport(result),
    onLost: (n) => metrics.usageLost(n),
  });
  return { tally, reporter };
}
