/**
 * The connection settings of NATS and Redis, read alike by the issuer and the verifier: where the
 * servers are, the credentials akm presents, and the CA that signed their TLS certificates.
 * Every mistake is found at start-up and named (a ConfigError), never at the first publish.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { optionalUrlVar } from './config.js';
import type { NatsAuthOptions } from './nats.js';

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

function readableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** An optional path to a file that must exist and be readable. */
export const optionalFileVar = () =>
  z.preprocess(unsetIfEmpty, z.string().refine(readableFile, 'must name a readable file').optional());

const optionalSecret = () => z.preprocess(unsetIfEmpty, z.string().optional());

/** Environment variables of the NATS and Redis connections; spread into a service's schema. */
export const connectionEnvShape = {
  NATS_URL: optionalUrlVar(['nats:', 'tls:']),
  NATS_CREDS: optionalFileVar(),
  NATS_USER: optionalSecret(),
  NATS_PASSWORD: optionalSecret(),
  NATS_TOKEN: optionalSecret(),
  NATS_CA_FILE: optionalFileVar(),
  // The schemes ioredis reads as a URL: it takes `http://host` for the host "http".
  REDIS_URL: optionalUrlVar(['redis:', 'rediss:']),
  REDIS_CA_FILE: optionalFileVar(),
};

/** The parsed connection variables (each optional). */
export type ConnectionEnv = z.infer<z.ZodObject<typeof connectionEnvShape>>;

/**
 * What is wrong across the connection variables, one line per problem naming the variables
 * (empty when all is well): credentials without a server, half a user, two kinds of credential,
 * credentials in the NATS URL (the client ignores them there), a Redis CA without TLS.
 */
export function connectionEnvProblems(env: ConnectionEnv): string[] {
  const problems: string[] = [];
  if (env.NATS_USER !== undefined && env.NATS_PASSWORD === undefined) problems.push('  NATS_PASSWORD: required with NATS_USER');
  if (env.NATS_PASSWORD !== undefined && env.NATS_USER === undefined) problems.push('  NATS_USER: required with NATS_PASSWORD');
  const kinds = [env.NATS_CREDS && 'NATS_CREDS', env.NATS_USER && 'NATS_USER', env.NATS_TOKEN && 'NATS_TOKEN'].filter(Boolean);
  if (kinds.length > 1) problems.push(`  ${kinds.join(', ')}: set only one kind of NATS credential`);
  const natsSettings = ['NATS_CREDS', 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_CA_FILE'] as const;
  for (const name of natsSettings) {
    if (env[name] !== undefined && env.NATS_URL === undefined) problems.push(`  ${name}: set, but NATS_URL is not`);
  }
  if (env.NATS_URL?.split(',').some((u) => new URL(u.trim()).username !== '')) {
    problems.push('  NATS_URL: must not carry credentials (the client ignores them there); use NATS_USER and NATS_PASSWORD, NATS_TOKEN or NATS_CREDS');
  }
  if (env.REDIS_CA_FILE !== undefined && !env.REDIS_URL?.startsWith('rediss:')) {
    problems.push('  REDIS_CA_FILE: needs a rediss:// REDIS_URL (TLS)');
  }
  return problems;
}

/** The NATS credentials and CA the environment names, for `connectNats`. */
export function natsAuthFromEnv(env: ConnectionEnv): NatsAuthOptions {
  return {
    ...(env.NATS_CREDS !== undefined ? { credsFile: env.NATS_CREDS } : {}),
    ...(env.NATS_USER !== undefined ? { user: env.NATS_USER, password: env.NATS_PASSWORD ?? '' } : {}),
    ...(env.NATS_TOKEN !== undefined ? { token: env.NATS_TOKEN } : {}),
    ...(env.NATS_CA_FILE !== undefined ? { caFile: env.NATS_CA_FILE } : {}),
  };
}

/** The ioredis TLS option that trusts the CA in `caFile` (a `rediss://` URL alone trusts the system's CAs). */
export function redisTlsOptions(caFile: string | undefined): { tls?: { ca: Buffer } } {
  return caFile === undefined ? {} : { tls: { ca: readFileSync(caFile) } };
}
