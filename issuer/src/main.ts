/**
 * `npm run start:issuer`: the issuer alone, configured from the environment.
 */
import { ConfigError, createLogger } from '../../common/src/index.js';
import { loadIssuerEnv } from './config.js';
import { startIssuer } from './issuer.js';
import { DataDirError } from './store/storage-errors.js';
import { poolOptionsFromEnv } from './pool/index.js';

try {
  const env = loadIssuerEnv(process.env);
  const logger = createLogger({ name: 'akm-issuer', level: env.LOG_LEVEL });
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
    logger,
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await issuer.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`akm-issuer: ${err.message}\n`);
    process.exit(78);
  }
  if (err instanceof DataDirError) {
    process.stderr.write(`akm-issuer: AKM_DATA_DIR: ${err.message}\n`);
    process.exit(73); // EX_CANTCREAT
  }
  throw err;
}
