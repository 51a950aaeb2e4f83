/**
 * `npm start`: the whole system in one process on its embedded default. SQLite in the data
 * directory; the in-process event bus unless `NATS_URL` is set; memory rate counting unless
 * `REDIS_URL` is set. For real deployments run `npm run start:issuer` and
 * `npm run start:verifier` (as many as you like) against NATS and Redis.
 */
import { Redis } from 'ioredis';
import { ConfigError, connectNats, createLogger, type KeyEventFeed, type NatsConnection } from './common/src/index.js';
import { loadIssuerEnv, startIssuer } from './issuer/src/index.js';
import { poolOptionsFromEnv } from './issuer/src/pool/index.js';
import {
  createJetStreamKeyFeed,
  createMemoryRateLimiter,
  createRedisRateLimiter,
  createRemoteKeySource,
  createVerifierMetrics,
  loadVerifierEnv,
  REDIS_CLIENT_OPTIONS,
  startVerifierService,
} from './verifier/src/index.js';

async function main(): Promise<void> {
  const env = loadIssuerEnv(process.env);
  const logger = createLogger({ name: 'akm', level: env.LOG_LEVEL });
  const issuer = await startIssuer({
    dataDir: env.AKM_DATA_DIR,
    port: env.ISSUER_PORT,
    host: env.AKM_HOST,
    issuer: env.AKM_ISSUER,
    audience: env.AKM_AUDIENCE,
    signingKeyFile: env.AKM_SIGNING_KEY_FILE,
    natsUrl: env.NATS_URL,
    streamReplicas: env.AKM_STREAM_REPLICAS,
    maxKeyTtlSeconds: env.AKM_MAX_KEY_TTL_S,
    defaultKeyTtlSeconds: env.AKM_DEFAULT_KEY_TTL_S,
    sessionTtlSeconds: env.AKM_SESSION_TTL_S,
    adminPassword: env.AKM_ADMIN_PASSWORD,
    redisUrl: env.REDIS_URL,
    pool: poolOptionsFromEnv(env),
    logger: logger.child({ component: 'issuer' }),
  });

  // The verifier reads the same variables; ISSUER_URL defaults to the issuer started above.
  // `||`, not a spread default: a variable set but empty (a sourced .env) means "use the default".
  const venv = loadVerifierEnv({
    ...process.env,
    ISSUER_URL: process.env.ISSUER_URL || issuer.url,
    NATS_URL: env.NATS_URL ?? 'nats://in-process',
  });
  const vlog = logger.child({ component: 'verifier' });
  const metrics = createVerifierMetrics();
  let nc: NatsConnection | undefined;
  let feed: KeyEventFeed;
  if (issuer.memoryBus) {
    feed = issuer.memoryBus.createFeed();
  } else {
    nc = await connectNats({ url: venv.NATS_URL, name: 'akm-verifier' });
    feed = createJetStreamKeyFeed({ nc, stream: venv.AKM_STREAM, onUnparseable: () => metrics.unparseableEvent() });
  }
  const redis = venv.REDIS_URL ? new Redis(venv.REDIS_URL, REDIS_CLIENT_OPTIONS) : undefined;
  redis?.on('error', (err) => vlog.warn({ err: err.message }, 'redis unavailable; counting in memory'));
  if (!redis) vlog.warn('REDIS_URL not set: rate limits are counted in this process only');
  const verifier = await startVerifierService({
    keys: createRemoteKeySource({ url: new URL('/.well-known/jwks.json', venv.ISSUER_URL).toString() }),
    feed,
    limiter: redis ? createRedisRateLimiter({ redis, onFallback: () => metrics.redisFallback() }) : createMemoryRateLimiter(),
    logger: vlog,
    metrics,
    issuer: venv.AKM_ISSUER,
    audience: venv.AKM_AUDIENCE,
    maxStalenessSeconds: venv.VERIFIER_MAX_STALENESS_S,
    cacheSize: venv.VERIFIER_CACHE_SIZE,
    port: venv.VERIFIER_PORT,
    host: venv.AKM_HOST,
  });
  await verifier.ready;

  process.stdout.write(
    [
      '',
      `akm is running`,
      `  issuer    ${issuer.url}   (admin API, sign-in, JWKS, token pool)`,
      `  verifier  ${verifier.url}   (GET /price, GET /key/info)`,
      `  events    ${issuer.memoryBus ? 'in-process bus (set NATS_URL for JetStream)' : `JetStream at ${env.NATS_URL}`}`,
      `  counting  ${redis ? `Redis at ${venv.REDIS_URL}` : 'in memory (set REDIS_URL to share limits)'}`,
      '',
      'Get an admin token:  npx akm admin-token --save     (or: npx akm login admin)',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await verifier.stop();
    await nc?.drain().catch(() => undefined);
    if (redis) await redis.quit().catch(() => redis.disconnect());
    await issuer.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`akm failed to start: ${message}\n`);
  process.exit(1);
});
