/**
 * A verifier service for tests, wired as `main.ts` wires it but with the test's own stream,
 * Redis key prefix and clock. It owns its NATS connection and Redis client and closes them.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { connectNats, createLogger, type KeyEventFeed, type NatsConnection } from '../../../common/src/index.js';
import { createJetStreamKeyFeed } from '../../src/consumers/jetstream-key-feed.js';
import { startVerifierService, type RunningVerifier } from '../../src/service.js';
import { createMemoryRateLimiter } from '../../src/store/memory-rate-limiter.js';
import { createStaticKeySource } from '../../src/store/key-source.js';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from '../../src/store/redis-rate-limiter.js';
import { createVerifierMetrics } from '../../src/verifier-metrics.js';
import type { TestStream } from './key-events.js';
import type { TestSigner } from './signing.js';

/** Options of {@link startTestVerifier}. */
export interface TestVerifierOptions {
  signer: TestSigner;
  /** The stream to follow (on a real nats-server); or `feed` to supply one. */
  stream?: TestStream;
  natsUrl?: string;
  feed?: KeyEventFeed;
  /** Count in this Redis; in memory when omitted. */
  redisUrl?: string;
  /** Shared by instances that must share counts. */
  keyPrefix?: string;
  now?: () => number;
  cacheSize?: number;
  maxStalenessSeconds?: number;
  /** Wait for the replay before resolving. Default true. */
  waitReady?: boolean;
}

/** A running test verifier. */
export interface TestVerifier {
  svc: RunningVerifier;
  url: string;
  redis?: Redis;
  /** `GET path` with the key as bearer. */
  get(path: string, token?: string): request.Test;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a verifier service on a free port. */
export async function startTestVerifier(options: TestVerifierOptions): Promise<TestVerifier> {
  const metrics = createVerifierMetrics();
  let nc: NatsConnection | undefined;
  let feed = options.feed;
  if (!feed) {
    if (!options.stream || !options.natsUrl) throw new Error('startTestVerifier needs a stream and natsUrl, or a feed');
    nc = await connectNats({ url: options.natsUrl, name: 'verifier-under-test' });
    feed = createJetStreamKeyFeed({
      nc,
      stream: options.stream.stream,
      subjects: options.stream.subjects,
      now: options.now,
      onUnparseable: () => metrics.unparseableEvent(),
    });
  }
  const redis = options.redisUrl ? new Redis(options.redisUrl, REDIS_CLIENT_OPTIONS) : undefined;
  redis?.on('error', () => {});
  const keyPrefix = options.keyPrefix ?? `rl-${randomUUID()}`;
  const limiter = redis
    ? createRedisRateLimiter({ redis, keyPrefix, onFallback: () => metrics.redisFallback() })
    : createMemoryRateLimiter({ keyPrefix });
  const svc = await startVerifierService({
    keys: createStaticKeySource(options.signer.jwks),
    feed,
    limiter,
    metrics,
    logger: createLogger({ name: 'verifier-test', level: 'silent' }),
    now: options.now,
    cacheSize: options.cacheSize,
    maxStalenessSeconds: options.maxStalenessSeconds,
  });
  if (options.waitReady !== false) await svc.ready;
  return {
    svc,
    url: svc.url,
    redis,
    get(path, token) {
      const req = request(svc.url).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    },
    async metricsText() {
      return (await request(svc.url).get('/metrics')).text;
    },
    async stop() {
      await svc.stop();
      await nc?.drain().catch(() => nc?.close());
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** A failure message showing the answer, for assertions on status and code. */
export function shown(res: { status: number; text: string }): string {
  return `HTTP ${res.status}: ${res.text}`;
}
