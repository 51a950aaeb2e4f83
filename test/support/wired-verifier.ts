/**
 * A verifier service wired as it is deployed, for end-to-end tests: the issuer's JWKS over
 * HTTP, key states from the JetStream stream, and (with a Redis URL) counts in Redis;
 * `useWiredVerifiers` registers the hooks of a suite running them against a real issuer.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@akm/common';
import { startIssuer, type IssuerOptions, type RunningIssuer } from '@akm/issuer';
import { createVerifierRuntime, type VerifierRuntime } from '@akm/verifier/service';
import { startNats, startRedis, waitFor, type TestServer } from './processes.js';
import { stopEach } from './teardown.js';

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

/** Options of {@link useWiredVerifiers}. */
export interface WiredSuiteOptions extends Pick<WiredVerifierOptions, 'name' | 'usageIntervalMs'> {
  /** Also a redis-server, the verifiers sharing one counter prefix there. */
  redis?: boolean;
  /** How many verifiers; named `name-0`, `name-1`, … when more than one. Default 1. */
  verifiers?: number;
  /**
   * The issuer's options beyond its data directory, port, NATS URL and silent logger; a function
   * of the data directory when the issuer needs files there.
   */
  issuer?: Partial<IssuerOptions> | ((dataDir: string) => Partial<IssuerOptions> | Promise<Partial<IssuerOptions>>);
}

/** What a suite of {@link useWiredVerifiers} works with; reading a part setup did not start throws. */
export interface WiredSuite {
  nats: TestServer;
  redis: TestServer;
  /** The issuer's data directory. */
  dataDir: string;
  issuer: RunningIssuer;
  /** The first verifier. */
  verifier: VerifierRuntime;
  verifiers: VerifierRuntime[];
}

/**
 * Registers the mocha hooks of an end-to-end suite: a nats-server (and redis-server), a real
 * issuer on a throwaway data directory, and verifiers wired to both, ready (and, with Redis,
 * counting there) before the first test. After the suite it stops every part that started, also
 * when setup failed half-way.
 * @example
 * const e2e = useWiredVerifiers({ name: 'pyjwt-verifier' });
 * it('…', async () => fetch(`${e2e.verifier.service.url}/healthz`));
 */
export function useWiredVerifiers(options: WiredSuiteOptions): WiredSuite {
  const count = options.verifiers ?? 1;
  let nats: TestServer | undefined;
  let redis: TestServer | undefined;
  let dataDir: string | undefined;
  let issuer: RunningIssuer | undefined;
  const verifiers: VerifierRuntime[] = [];
  const present = <T>(part: T | undefined, what: string): T => {
    if (part === undefined) throw new Error(`the end-to-end suite has no ${what}: not asked for, or its setup did not complete`);
    return part;
  };

  before(async function () {
    this.timeout(30_000);
    // One at a time, each kept as soon as it runs, so that `after` stops it if a later step fails.
    nats = await startNats();
    if (options.redis) redis = await startRedis();
    dataDir = mkdtempSync(join(tmpdir(), 'akm-e2e-'));
    const more = typeof options.issuer === 'function' ? await options.issuer(dataDir) : options.issuer;
    issuer = await startIssuer({
      dataDir,
      port: 0,
      natsUrl: nats.url,
      logger: createLogger({ name: 'issuer', level: 'silent' }),
      onGeneratedAdminPassword: () => {},
      ...more,
    });
    const keyPrefix = `e2e-${randomUUID()}`;
    for (let i = 0; i < count; i++) {
      const name = count === 1 ? options.name : `${options.name}-${i}`;
      const { usageIntervalMs } = options;
      verifiers.push(await startWiredVerifier({ issuerUrl: issuer.url, natsUrl: nats.url, name, keyPrefix, usageIntervalMs, ...(redis ? { redisUrl: redis.url } : {}) }));
    }
    await Promise.all(verifiers.map((v) => v.service.ready));
    if (redis) await waitFor(() => verifiers.every((v) => v.service.verifier.readiness().rateLimits === 'shared'), 5000);
  });
  after(() =>
    stopEach(
      ...verifiers.splice(0).map((v) => () => v.stop()),
      () => issuer?.stop(),
      () => nats?.destroy(),
      () => redis?.destroy(),
      () => dataDir && rmSync(dataDir, { recursive: true, force: true }),
      () => (nats = redis = dataDir = issuer = undefined),
    ),
  );

  return {
    get nats() {
      return present(nats, 'nats-server');
    },
    get redis() {
      return present(redis, 'redis-server');
    },
    get dataDir() {
      return present(dataDir, 'data directory');
    },
    get issuer() {
      return present(issuer, 'issuer');
    },
    get verifier() {
      return present(verifiers[0], 'verifier');
    },
    verifiers,
  };
}
