/**
 * The verifier service with everything it owns, wired once: the issuer's keys (JWKS URL or
 * file), the key stream (a NATS connection and its JetStream feed, or a feed at hand), where
 * usage goes (the `AKM_USAGE` stream on that connection, or a publisher at hand), the limiter
 * (Redis when a URL is given, memory otherwise), metrics, and the HTTP service. The
 * standalone `main.ts`, the all-in-one `npm start`, the tests and the benchmark all start a
 * verifier through here, and `stop()` closes what it opened in order: HTTP, the consumer, NATS
 * (drained), the limiter (its quota leases go back to Redis), Redis.
 */
import { randomUUID } from 'node:crypto';
import {
  ConfigError,
  connectNats,
  connectNatsRetrying,
  createLogger,
  isNatsAuthError,
  natsAuthFromEnv,
  redisTlsOptions,
  type KeyEventFeed,
  type Logger,
  type NatsAuthOptions,
  type NatsConnection,
  type UsagePublisher,
} from '@akm/common';
import type { Redis } from 'ioredis';
import { createDeferredKeyFeed } from '../consumers/deferred-key-feed.js';
import { createJetStreamKeyFeed } from '../consumers/jetstream-key-feed.js';
import { createJetStreamUsagePublisher } from '../store/jetstream-usage-publisher.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import { createRemoteKeySource, loadKeySourceFile, type KeySource } from '../store/key-source.js';
import { createMemoryRateLimiter } from '../store/memory-rate-limiter.js';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from '../store/redis-rate-limiter.js';
import { createVerifierMetrics } from '../verifier-metrics.js';
import type { VerifierEnv } from './config.js';
import { startVerifierService, type RunningVerifier, type VerifierServiceOptions } from './start-service.js';

/** Options of {@link createVerifierRuntime}: where keys, events and counts come from, and the service's own. */
export interface VerifierRuntimeOptions extends Omit<VerifierServiceOptions, 'keys' | 'feed' | 'limiter'> {
  /** The issuer's base URL; keys come from its `/.well-known/jwks.json`. */
  issuerUrl?: string;
  /** A local JWKS file instead of `issuerUrl`. */
  jwksFile?: string;
  /** Keys already at hand, instead of either. */
  keys?: KeySource;
  /** JetStream servers (comma-separated) carrying the key stream. */
  natsUrl?: string;
  /** Credentials and CA for `natsUrl`. */
  natsAuth?: NatsAuthOptions;
  /** A key event feed at hand (the issuer's in-process bus) instead of `natsUrl`. */
  feed?: KeyEventFeed;
  /** Stream to follow on NATS. Default `AKM_KEYS`. */
  stream?: string;
  /** Subject filter on that stream. Default `akm.keys.*`. */
  subjects?: string;
  /** Redis to count in (`redis://` or `rediss://`, user and password in the URL); counts stay in this process without it. */
  redisUrl?: string;
  /** PEM file of the CA that signed a `rediss://` server's certificate. */
  redisCaFile?: string;
  /** Prefix of the counters; instances that share limits share it. Default `akm:rl`. */
  keyPrefix?: string;
  /** Most requests of a key one quota lease holds when counting in Redis; 1 turns leasing off. Default 64. */
  leaseMax?: number;
  /** Client name shown by NATS. Default `akm-verifier`. */
  name?: string;
  /** Milliseconds between attempts to reach NATS while it is not reachable. Default 1000. */
  natsRetryMs?: number;
}

/** A running verifier service and what it owns. */
export interface VerifierRuntime {
  service: RunningVerifier;
  /** Reads the issuer's keys again now (a JWKS file; `main.ts` calls it on SIGHUP). */
  reload(): Promise<void>;
  /** Stops HTTP, then the key stream consumer, then drains NATS, closes the limiter (its leases go back) and quits Redis. */
  stop(): Promise<void>;
}

/** The {@link VerifierRuntimeOptions} that a verifier's environment describes. */
export function verifierRuntimeOptionsFromEnv(env: VerifierEnv): VerifierRuntimeOptions {
  return {
    ...(env.ISSUER_URL ? { issuerUrl: env.ISSUER_URL } : {}),
    ...(env.AKM_JWKS_FILE ? { jwksFile: env.AKM_JWKS_FILE } : {}),
    ...(env.NATS_URL ? { natsUrl: env.NATS_URL, natsAuth: natsAuthFromEnv(env) } : {}),
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    ...(env.REDIS_CA_FILE ? { redisCaFile: env.REDIS_CA_FILE } : {}),
    leaseMax: env.VERIFIER_RATE_LEASE_MAX,
    stream: env.AKM_STREAM,
    issuer: env.AKM_ISSUER,
    audience: env.AKM_AUDIENCE,
    maxStalenessSeconds: env.VERIFIER_MAX_STALENESS_S,
    maxKeyLifetimeSeconds: env.AKM_MAX_KEY_TTL_S,
    cacheSize: env.VERIFIER_CACHE_SIZE,
    usageIntervalMs: env.VERIFIER_USAGE_INTERVAL_MS,
    port: env.VERIFIER_PORT,
    host: env.AKM_HOST,
    trustProxy: env.AKM_TRUST_PROXY,
    ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
  };
}

async function keySourceOf(options: VerifierRuntimeOptions, logger: Logger): Promise<KeySource> {
  if (options.keys) return options.keys;
  if (options.jwksFile) {
    const file = options.jwksFile;
    return loadKeySourceFile(file, {
      onReload: (keys) => logger.info({ jwks: file, keys }, 'JWKS file read'),
      onReloadError: (detail) => logger.warn({ jwks: file, detail }, 'JWKS file not read; keeping the keys read before'),
    });
  }
  if (options.issuerUrl) return createRemoteKeySource({ url: new URL('/.well-known/jwks.json', options.issuerUrl).toString() });
  throw new TypeError('createVerifierRuntime: one of keys, jwksFile or issuerUrl is required');
}

/**
 * Builds and starts a verifier service. It listens at once, also while NATS is not reachable
 * yet, and answers 503 until it is connected and has replayed the key stream (`service.ready`).
 * @example
 * const { service, stop } = await createVerifierRuntime({ issuerUrl: 'http://issuer:8080', natsUrl: 'nats://nats:4222', redisUrl: 'redis://redis:6379' });
 * await service.ready;
 */
export async function createVerifierRuntime(options: VerifierRuntimeOptions): Promise<VerifierRuntime> {
  const logger = options.logger ?? createLogger({ name: 'akm-verifier' });
  const metrics = options.metrics ?? createVerifierMetrics();
  const keys = await keySourceOf(options, logger);

  let nc: NatsConnection | undefined;
  let natsUsage: UsagePublisher | undefined;
  let feed = options.feed;
  if (!feed) {
    const natsUrl = options.natsUrl;
    if (!natsUrl) throw new TypeError('createVerifierRuntime: natsUrl or feed is required');
    const connection = { ...options.natsAuth, url: natsUrl, name: options.name ?? 'akm-verifier' };
    const retryMs = options.natsRetryMs ?? 1000;
    const waiting = (reason: string) => logger.warn({ reason }, 'NATS not reachable yet; retrying (answering 503 until connected)');
    // One attempt before the service starts: credentials NATS refuses are a setting to fix, and
    // stop the start. NATS not reachable yet (compose, a rolling restart) does not: the service
    // listens at once, answers 503 until connected and replayed, and says once per attempt that
    // it is still waiting. The URL is not logged: it may carry credentials.
    const first = await connectNats(connection).catch((err: unknown) => {
      if (isNatsAuthError(err)) {
        throw new ConfigError(`NATS refused the verifier's credentials (NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS): ${(err as Error).message}`);
      }
      waiting((err as Error).message);
      return undefined;
    });
    feed = createDeferredKeyFeed({
      now: options.now ?? Date.now,
      open: async (signal) => {
        nc = first ?? (await connectNatsRetrying({ ...connection, signal, retryMs, waitFirst: true, onRetry: waiting }));
        logger.info('connected to NATS');
        natsUsage = createJetStreamUsagePublisher({ nc });
        return createJetStreamKeyFeed({
          nc,
          ...(options.stream ? { stream: options.stream } : {}),
          ...(options.subjects ? { subjects: options.subjects } : {}),
          ...(options.now ? { now: options.now } : {}),
          onRetry: (reason) => logger.warn({ reason }, 'retrying the key stream consumer'),
        });
      },
    });
  }

  let redis: Redis | undefined;
  let limiter: RateLimiter;
  const keyPrefix = options.keyPrefix;
  if (options.redisUrl) {
    // Loaded only here: a service that counts in memory needs no Redis client installed.
    const { Redis } = await import('ioredis');
    const client = new Redis(options.redisUrl, { ...REDIS_CLIENT_OPTIONS, ...redisTlsOptions(options.redisCaFile) });
    client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis unavailable; counting in memory'));
    redis = client;
    limiter = createRedisRateLimiter({
      redis: client,
      ...(keyPrefix ? { keyPrefix } : {}),
      ...(options.leaseMax ? { leaseMax: options.leaseMax } : {}),
      onFallback: () => metrics.redisFallback(),
    });
  } else {
    logger.warn('REDIS_URL not set: rate limits are counted in this process only');
    limiter = createMemoryRateLimiter(keyPrefix ? { keyPrefix } : {});
  }

  // Usage goes where the key stream comes from: JetStream, or the publisher given with the feed.
  // Until NATS is reachable a report is refused, and the reporter keeps it for the next attempt.
  const usage: UsagePublisher | undefined =
    options.usage ??
    (options.feed
      ? undefined
      : { publish: (report) => (natsUsage ? natsUsage.publish(report) : Promise.reject(new Error('not connected to NATS yet'))) });
  const usageSource = options.usageSource ?? `${(options.name ?? 'akm-verifier').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60)}-${randomUUID()}`;

  const service = await startVerifierService({
    ...options,
    keys,
    feed,
    limiter,
    logger,
    metrics,
    ...(usage ? { usage, usageSource } : {}),
  });
  let stopping: Promise<void> | undefined;
  return {
    service,
    async reload() {
      if (!keys.reload) return logger.info({ jwks: keys.origin }, 'nothing to reload: the keys come from the issuer URL');
      await keys.reload();
    },
    stop() {
      stopping ??= (async () => {
        await service.stop();
        keys.close?.();
        await nc?.drain().catch(() => nc?.close());
        // The limiter gives its leases' unused requests back while Redis is still there.
        await limiter.close?.();
        if (redis) await redis.quit().catch(() => redis?.disconnect());
      })();
      return stopping;
    },
  };
}
