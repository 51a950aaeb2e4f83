/**
 * A verifier service wired as it is deployed, for end-to-end tests: the issuer's JWKS over
 * HTTP, key states from the JetStream stream, and (with a Redis URL) counts in Redis.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@akm/common';
import { createVerifierRuntime, type VerifierRuntime } from '@akm/verifier/service';

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
  /** Milliseconds between usage reports (the service's default is 5000). */
  usageIntervalMs?: number;
}

/** Starts a verifier; it is listening but not necessarily ready (await `service.ready`). */
export function startWiredVerifier(options: WiredVerifierOptions): Promise<VerifierRuntime> {
  return createVerifierRuntime({
    issuerUrl: options.issuerUrl,
    natsUrl: options.natsUrl,
    name: options.name,
    ...(options.usageIntervalMs ? { usageIntervalMs: options.usageIntervalMs } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl, keyPrefix: options.keyPrefix ?? `e2e-${randomUUID()}` } : {}),
    logger: createLogger({ name: options.name, level: 'silent' }),
  });
}
