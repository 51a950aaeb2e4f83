/**
 * The standalone verifier service: parses the environment, builds the collaborators (issuer
 * keys, JetStream feed, Redis limiter), starts the service and stops it in order on a signal:
 * HTTP, then the consumer, then NATS (drained), then Redis.
 */
import { Redis } from 'ioredis';
import { ConfigError, connectNats, createLogger } from '../../common/src/index.js';
import { loadVerifierEnv } from './config.js';
import { createJetStreamKeyFeed } from './consumers/jetstream-key-feed.js';
import { startVerifierService } from './service.js';
import { createMemoryRateLimiter } from './store/memory-rate-limiter.js';
import { createRemoteKeySource, loadKeySourceFile } from './store/key-source.js';
import { createRedisRateLimiter, REDIS_CLIENT_OPTIONS } from './store/redis-rate-limiter.js';
import { createVerifierMetrics } from './verifier-metrics.js';

async function main(): Promise<void> {
  const env = loadVerifierEnv(process.env);
  const logger = createLogger({ name: 'verifier', level: env.LOG_LEVEL });
  const keys = env.AKM_JWKS_FILE
    ? await loadKeySourceFile(env.AKM_JWKS_FILE)
    : createRemoteKeySource({ url: new URL('/.well-known/jwks.json', env.ISSUER_URL).toString() });
  const metrics = createVerifierMetrics();
  const nc = await connectNats({ url: env.NATS_URL, name: 'akm-verifier' });
  const feed = createJetStreamKeyFeed({
    nc,
    stream: env.AKM_STREAM,
    onRetry: (reason) => logger.warn({ reason }, 'key stream not available yet; retrying'),
    onUnparseable: (detail, subject) => {
      metrics.unparseableEvent();
      logger.warn({ subject, detail }, 'skipped a key event that cannot be parsed');
    },
  });
  const redis = env.REDIS_URL ? new Redis(env.REDIS_URL, REDIS_CLIENT_OPTIONS) : undefined;
  redis?.on('error', (err) => logger.warn({ err: err.message }, 'redis unavailable; counting in memory'));
  const limiter = redis
    ? createRedisRateLimiter({ redis, onFallback: () => metrics.redisFallback() })
    : createMemoryRateLimiter();

  const service = await startVerifierService({
    keys,
    feed,
    limiter,
    logger,
    metrics,
    issuer: env.AKM_ISSUER,
    audience: env.AKM_AUDIENCE,
    maxStalenessSeconds: env.VERIFIER_MAX_STALENESS_S,
    cacheSize: env.VERIFIER_CACHE_SIZE,
    port: env.VERIFIER_PORT,
    host: env.AKM_HOST,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await service.stop();
    await nc.drain();
    if (redis) await redis.quit().catch(() => redis.disconnect());
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err);
  process.stderr.write(`verifier failed to start: ${message}\n`);
  process.exit(1);
});
