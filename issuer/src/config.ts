/**
 * The issuer's configuration, from environment variables (see `.env.example`).
 */
import { z } from 'zod';
import {
  ConfigError,
  connectionEnvProblems,
  connectionEnvShape,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  type Logger,
  logLevelVar,
  natsAuthFromEnv,
  optionalUrlVar,
  parseEnv,
  portVar,
  positiveIntVar,
  stringVar,
  metricsTokenVar,
  trustProxyVar,
} from '@akm/common';
import type { IssuerOptions } from './issuer.js';
import { poolEnvShape, poolOptionsFromEnv } from './pool/index.js';

const DAY = 24 * 3600;

/** Environment variables of the issuer, with their defaults. */
export const issuerEnvSchema = z.object({
  ISSUER_PORT: portVar(8080),
  AKM_HOST: stringVar('127.0.0.1'),
  AKM_DATA_DIR: stringVar('./data'),
  DATABASE_URL: optionalUrlVar(['postgres:', 'postgresql:']),
  AKM_MASTER_KEY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)').optional(),
  ),
  ...connectionEnvShape,
  AKM_ISSUER: stringVar(DEFAULT_ISSUER),
  AKM_AUDIENCE: stringVar(DEFAULT_KEY_AUDIENCE),
  AKM_SIGNING_KEY_FILE: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  AKM_MAX_KEY_TTL_S: positiveIntVar(365 * DAY),
  AKM_DEFAULT_KEY_TTL_S: positiveIntVar(30 * DAY),
  AKM_SESSION_TTL_S: positiveIntVar(900),
  AKM_STREAM_REPLICAS: positiveIntVar(1),
  AKM_ADMIN_PASSWORD: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(12, 'must be at least 12 characters').max(256).optional(),
  ),
  AKM_TRUST_PROXY: trustProxyVar(),
  METRICS_TOKEN: metricsTokenVar(),
  LOG_LEVEL: logLevelVar(),
  ...poolEnvShape,
});

/** The issuer's validated configuration. */
export type IssuerEnv = z.infer<typeof issuerEnvSchema>;

/** Reads the issuer's configuration; throws ConfigError naming any bad variable. */
export function loadIssuerEnv(env: NodeJS.ProcessEnv): IssuerEnv {
  const parsed = parseEnv(issuerEnvSchema, env);
  const problems = connectionEnvProblems(parsed);
  if (parsed.AKM_DEFAULT_KEY_TTL_S > parsed.AKM_MAX_KEY_TTL_S) {
    problems.push(`  AKM_DEFAULT_KEY_TTL_S: must not exceed AKM_MAX_KEY_TTL_S (got ${JSON.stringify(env['AKM_DEFAULT_KEY_TTL_S'])})`);
  }
  if (parsed.DATABASE_URL && !parsed.AKM_MASTER_KEY) {
    problems.push('  AKM_MASTER_KEY: required with DATABASE_URL: the private signing keys are kept in the database encrypted under it (give every replica the same one)');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return parsed;
}

/** The {@link IssuerOptions} that the environment describes, logging to `logger`. */
export function issuerOptionsFromEnv(env: IssuerEnv, logger: Logger): IssuerOptions {
  return {
    dataDir: env.AKM_DATA_DIR,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.AKM_MASTER_KEY ? { masterKey: env.AKM_MASTER_KEY } : {}),
    port: env.ISSUER_PORT,
    host: env.AKM_HOST,
    issuer: env.AKM_ISSUER,
    audience: env.AKM_AUDIENCE,
    signingKeyFile: env.AKM_SIGNING_KEY_FILE,
    natsUrl: env.NATS_URL,
    natsAuth: natsAuthFromEnv(env),
    streamReplicas: env.AKM_STREAM_REPLICAS,
    maxKeyTtlSeconds: env.AKM_MAX_KEY_TTL_S,
    defaultKeyTtlSeconds: env.AKM_DEFAULT_KEY_TTL_S,
    sessionTtlSeconds: env.AKM_SESSION_TTL_S,
    adminPassword: env.AKM_ADMIN_PASSWORD,
    redisUrl: env.REDIS_URL,
    redisCaFile: env.REDIS_CA_FILE,
    pool: poolOptionsFromEnv(env),
    trustProxy: env.AKM_TRUST_PROXY,
    ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
    logger,
  };
}
