/**
 * The verifier service's configuration, from environment variables. A missing or wrong value
 * stops the process at start-up with a message naming the variable.
 */
import { z } from 'zod';
import {
  ConfigError,
  connectionEnvProblems,
  connectionEnvShape,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  KEY_STREAM,
  logLevelVar,
  optionalUrlVar,
  parseEnv,
  portVar,
  positiveIntVar,
  metricsTokenVar,
  stringVar,
  trustProxyVar,
} from '@akm/common';
import { DEFAULT_MAX_KEY_LIFETIME_SECONDS, DEFAULT_MAX_STALENESS_SECONDS } from '../create-verifier.js';
import { DEFAULT_LEASE_MAX } from '../store/redis-rate-limiter.js';

const optionalString = () => z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

/** Environment variables of the verifier service, with their defaults. */
export const verifierEnvSchema = z.object({
  VERIFIER_PORT: portVar(8081),
  AKM_HOST: stringVar('127.0.0.1'),
  ISSUER_URL: optionalUrlVar(),
  AKM_JWKS_FILE: optionalString(),
  ...connectionEnvShape,
  AKM_ISSUER: stringVar(DEFAULT_ISSUER),
  AKM_AUDIENCE: stringVar(DEFAULT_KEY_AUDIENCE),
  AKM_STREAM: stringVar(KEY_STREAM),
  VERIFIER_MAX_STALENESS_S: positiveIntVar(DEFAULT_MAX_STALENESS_SECONDS),
  // The issuer's variable: a key event expiring further ahead than this is dropped as forged.
  AKM_MAX_KEY_TTL_S: positiveIntVar(DEFAULT_MAX_KEY_LIFETIME_SECONDS),
  AKM_TRUST_PROXY: trustProxyVar(),
  METRICS_TOKEN: metricsTokenVar(),
  VERIFIER_CACHE_SIZE: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).default(10_000)),
  VERIFIER_USAGE_INTERVAL_MS: positiveIntVar(5000),
  // Most requests of a key one quota lease holds (Redis limiter); 1 turns leasing off.
  VERIFIER_RATE_LEASE_MAX: positiveIntVar(DEFAULT_LEASE_MAX),
  LOG_LEVEL: logLevelVar(),
});

/** The verifier service's validated configuration. */
export type VerifierEnv = z.infer<typeof verifierEnvSchema>;

/** Options of {@link loadVerifierEnv}. */
export interface LoadVerifierEnvOptions {
  /**
   * Beside the issuer in one process (`npm start`): the key stream may be the issuer's
   * in-process bus, so `NATS_URL` is not required. Default false (a standalone verifier).
   */
  embedded?: boolean;
}

/**
 * Reads the verifier's configuration.
 * @throws ConfigError naming any bad variable; also when neither or both of `ISSUER_URL` and
 * `AKM_JWKS_FILE` are set, and, for a standalone verifier, when `NATS_URL` is missing: without
 * the key stream it cannot learn of revocations, so it refuses to start rather than accept
 * revoked keys.
 */
export function loadVerifierEnv(env: NodeJS.ProcessEnv, options: LoadVerifierEnvOptions = {}): VerifierEnv {
  const parsed = parseEnv(verifierEnvSchema, env);
  const problems = connectionEnvProblems(parsed);
  if (!parsed.ISSUER_URL && !parsed.AKM_JWKS_FILE) {
    problems.push('  ISSUER_URL or AKM_JWKS_FILE: one is required (where the issuer\'s public keys come from)');
  }
  if (parsed.ISSUER_URL && parsed.AKM_JWKS_FILE) {
    problems.push('  ISSUER_URL and AKM_JWKS_FILE: set only one of them');
  }
  if (!parsed.NATS_URL && !options.embedded) {
    problems.push(
      '  NATS_URL: required; without the key stream a standalone verifier cannot know revoked or disabled keys ' +
        '(`npm start` runs one on the in-process bus beside the issuer)',
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return parsed;
}
