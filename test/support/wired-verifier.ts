/**
 * A verifier service wired as it is deployed, for end-to-end tests: the issuer's JWKS over
 * HTTP, key states from the JetStream stream, and (with a Redis URL) counts in Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectNats, createLogger } from '../../common/src/index.js';
import {
  createJetStreamKeyFeed,
  createRedisRateLimiter,
  createRemoteKeySource,
  REDIS_CLIENT_OPTIONS,
  startVerifierService,
  type RunningVerifier,
} from '../../verifier/src/index.js';

/** Options of {@link startWiredVerifier}. */
export interface WiredVerifierOptions {
  /** The issuer's base URL; its `/.well-known/jwks.json` is the key source. */
  issuerUrl: string;
  natsUrl: string;
  /** Without it the verifier counts in memory. */
  redisUrl?: string;
  /** Redis key prefix; share one between verifiers that must share limits. */
  keyPrefix?: string;
  /** Names the NATS connection and the (silent) logger. */
  name: string;
}

/** A running verifier and what it owns. */
export interface WiredVerifier {
  service: RunningVerifier;
  /** Its Redis client, when it counts in Redis. */
  redis?: Redis;
  /** Stops the service, then drains NATS and quits Redis. */
  stop(): Promise<void>;
}

/** Starts a verifier; it is listening but not necessarily ready (await `service.ready`). */
export async function startWiredVerifier(options: WiredVerifierOptions): Promise<WiredVerifier> {
  const nc = await connectNats({ url: options.natsUrl, name: options.name });
  let redis: Redis | undefined;
  if (options.redisUrl) {
    redis = new Redis(options.redisUrl, REDIS_CLIENT_OPTIONS);
    redis.on('error', () => {});
  }
  const service = await startVerifierService({
    keys: createRemoteKeySource({ url: `${options.issuerUrl}/.well-known/jwks.json` }),
    feed: createJetStreamKeyFeed({ nc }),
    ...(redis ? { limiter: createRedisRateLimiter({ redis, keyPrefix: options.keyPrefix ?? `e2e-${randomUUID()}` }) } : {}),
    logger: createLogger({ name: options.name, level: 'silent' }),
  });
  return {
    service,
    ...(redis ? { redis } : {}),
    async stop() {
      await service.stop();
      await nc.drain();
      await redis?.quit();
    },
  };
}
