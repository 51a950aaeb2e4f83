/**
 * The servers a benchmark runs against, each started on a free port on 127.0.0.1 and owned by
 * a scope: nats-server and redis-server (the test harness's throwaway processes), the issuer
 * and the verifier as their own built `dist/main.js` processes, and the bare Express app.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNats, startRedis, type TestServer } from '../test/support/processes.js';
import { createAgent, httpRequest, jsonOf } from './http-client.js';
import type { NodeChild, Scope } from './scope.js';

/** A server process the benchmark talks to over HTTP. */
export interface BenchServer {
  url: string;
  child: NodeChild;
}

/** The issuer process, with a way to get an admin sign-in token. */
export interface BenchIssuer extends BenchServer {
  /** Signs in as the bootstrap admin; the token lives 15 minutes. */
  adminToken(): Promise<string>;
}

/** The master key of benchmark issuers on PostgreSQL. */
const BENCH_MASTER_KEY = randomBytes(32).toString('base64');

/** Options of {@link startVerifierProcess}. */
export interface VerifierProcessOptions {
  name: string;
  issuerUrl: string;
  natsUrl: string;
  redisUrl?: string;
  /** `VERIFIER_CACHE_SIZE`; 0 turns the verified-key cache off. */
  cacheSize?: number;
  /** `LOG_LEVEL`. Default `info`, the service's default. */
  logLevel?: string;
  /** `VERIFIER_RATE_LEASE_MAX`; 1 turns quota leasing off. Default: the service's. */
  leaseMax?: number;
  nodeArgs?: string[];
  /** Milliseconds to wait for `/readyz`. Default 60 000. */
  readyTimeoutMs?: number;
}

/** Starts nats-server (JetStream) and redis-server, owned by `scope`. */
export async function startInfra(scope: Scope): Promise<{ nats: TestServer; redis: TestServer }> {
  const [nats, redis] = await Promise.all([startNats(), startRedis()]);
  scope.own(() => nats.destroy());
  scope.own(() => redis.destroy());
  return { nats, redis };
}

/** Polls `url` until it answers 200; fails early when `child` exits. */
export async function waitUntilOk(url: string, child: NodeChild, timeoutMs = 60_000, intervalMs = 20): Promise<void> {
  const agent = createAgent(1);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.process.exitCode !== null) {
        throw new Error(`${child.name} exited with ${child.process.exitCode}: ${child.output().stderr.slice(-2000)}`);
      }
      const status = await httpRequest(url, { agent, timeoutMs: 2000 }).then((a) => a.status, () => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    agent.destroy();
  }
}

/**
 * Starts the built issuer (`issuer/dist/main.js`) on a fresh data directory, publishing to
 * `natsUrl`; on PostgreSQL when `databaseUrl` is given (replicas share it, and `password`).
 */
export async function startIssuerProcess(
  scope: Scope,
  options: { natsUrl: string; logLevel?: string; databaseUrl?: string; password?: string; name?: string },
): Promise<BenchIssuer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'akm-bench-issuer-'));
  scope.own(() => rmSync(dataDir, { recursive: true, force: true }));
  const password = options.password ?? randomBytes(16).toString('hex');
  const port = await freePort();
  const child = scope.spawnNode({
    name: options.name ?? 'issuer',
    script: 'issuer/dist/main.js',
    env: {
      ISSUER_PORT: String(port),
      AKM_DATA_DIR: dataDir,
      NATS_URL: options.natsUrl,
      AKM_ADMIN_PASSWORD: password,
      LOG_LEVEL: options.logLevel ?? 'info',
      REDIS_URL: '',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl, AKM_MASTER_KEY: BENCH_MASTER_KEY } : {}),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilOk(`${url}/readyz`, child);
  return {
    url,
    child,
    async adminToken() {
      const answer = await httpRequest(`${url}/auth/login`, { method: 'POST', json: { username: 'admin', password } });
      if (answer.status !== 200) throw new Error(`admin sign-in failed: HTTP ${answer.status} ${answer.text}`);
      return jsonOf<{ token: string }>(answer).token;
    },
  };
}

/** Starts the built verifier (`verifier/dist/main.js`) and waits until it replayed the key stream (`/readyz` 200). */
export async function startVerifierProcess(scope: Scope, options: VerifierProcessOptions): Promise<BenchServer> {
  const port = await freePort();
  const child = scope.spawnNode({
    name: options.name,
    script: 'verifier/dist/main.js',
    nodeArgs: options.nodeArgs,
    env: {
      VERIFIER_PORT: String(port),
      ISSUER_URL: options.issuerUrl,
      NATS_URL: options.natsUrl,
      REDIS_URL: options.redisUrl ?? '',
      VERIFIER_CACHE_SIZE: String(options.cacheSize ?? 10_000),
      LOG_LEVEL: options.logLevel ?? 'info',
      ...(options.leaseMax ? { VERIFIER_RATE_LEASE_MAX: String(options.leaseMax) } : {}),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilOk(`${url}/readyz`, child, options.readyTimeoutMs);
  return { url, child };
}

/** Starts the bare Express 5 + helmet app (`bench/bare-app.ts`); `helmet: false` leaves helmet out. */
export async function startBareApp(scope: Scope, options: { nodeArgs?: string[]; helmet?: boolean } = {}): Promise<BenchServer> {
  const port = await freePort();
  const child = scope.spawnNode({
    name: options.helmet === false ? 'bare app (no helmet)' : 'bare app',
    script: 'bench/bare-app.ts',
    nodeArgs: options.nodeArgs,
    env: { BARE_PORT: String(port), BARE_HELMET: options.helmet === false ? '0' : '1' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilOk(`${url}/readyz`, child);
  return { url, child };
}
