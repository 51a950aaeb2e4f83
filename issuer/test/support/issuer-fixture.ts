/**
 * A real issuer on a free port with a throwaway data directory, its log lines captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type MemoryKeyBus } from '@akm/common';
import { startRoundRobinProxy, type RoundRobinProxy } from '../../../test/support/round-robin-proxy.js';
import { stopEach } from '../../../test/support/teardown.js';
import { startIssuer, type IssuerOptions, type RunningIssuer } from '../../src/index.js';
import { freshDatabaseUrl, testStoreKind } from './test-store.js';

/** The master key of test issuers on PostgreSQL (their private signing keys are sealed under it). */
export const TEST_MASTER_KEY = 'test master key: thirty-two characters or more';

/** Password of the first admin in test issuers. */
export const TEST_ADMIN_PASSWORD = 'correct horse battery staple';

/** A test issuer with its captured log lines. */
export interface TestIssuer extends RunningIssuer {
  dataDir: string;
  logs: string[];
  admin: string;
  /** The URL of each process serving `url`: three replicas on the PostgreSQL pass, else one. */
  replicas: string[];
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** A writable that keeps every log line. */
export function captureLogs(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

/** The database of each data directory on PostgreSQL: a restart on the same directory finds its data. */
const databases = new Map<string, string>();

/** Options of a test issuer: the issuer's, and how many replicas serve it on PostgreSQL. */
export type TestIssuerOptions = Partial<IssuerOptions> & {
  /**
   * On the PostgreSQL pass, issuers sharing the database behind a round-robin proxy (default 3);
   * a test that needs one process says `replicas: 1`, and why. SQLite always has one.
   */
  replicas?: number;
};

/**
 * Starts an issuer for a test; `dataDir` may be reused to test restarts. On the PostgreSQL pass
 * (see `test-store.ts`) it keeps its data in a database of its own (the same one for a reused
 * `dataDir`) unless `databaseUrl` is given, and is three replicas on that database behind a
 * round-robin proxy: `url` is the proxy's, `logs` has every replica's lines, `stop` stops them
 * all, and the in-process objects (`db`, `service`, `signing`, …) are the first replica's.
 */
export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const { replicas: wanted, ...issuerOptions } = options;
  const dataDir = issuerOptions.dataDir ?? mkdtempSync(join(tmpdir(), 'akm-issuer-'));
  const logs: string[] = [];
  const logger = () => createLogger({ name: 'akm-issuer', level: 'debug', destination: captureLogs(logs) });
  let databaseUrl = issuerOptions.databaseUrl;
  const postgres = testStoreKind() === 'postgres';
  if (databaseUrl === undefined && postgres) {
    databaseUrl = databases.get(dataDir) ?? (await freshDatabaseUrl());
    databases.set(dataDir, databaseUrl);
  }
  const startOne = (more: Partial<IssuerOptions> = {}) =>
    startIssuer({
      port: 0,
      logger: logger(),
      adminPassword: TEST_ADMIN_PASSWORD,
      ...issuerOptions,
      dataDir,
      ...(databaseUrl ? { databaseUrl, masterKey: issuerOptions.masterKey ?? TEST_MASTER_KEY } : {}),
      ...more,
    });
  const count = postgres && databaseUrl ? (wanted ?? 3) : 1;
  // The first starts alone, as the first of a deployment does (it migrates and creates the first
  // admin); the others then start together. They share the data directory, so a generated first
  // admin password is shown once (by the first) and any replica's sign-in with it removes it.
  const first = await startOne();
  const started = [first];
  try {
    const others = await Promise.allSettled(
      Array.from({ length: count - 1 }, () => startOne({ onGeneratedAdminPassword: () => undefined })),
    );
    for (const o of others) if (o.status === 'fulfilled') started.push(o.value);
    const failed = others.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await Promise.allSettled(started.map((r) => r.stop()));
    throw err;
  }
  const issuer = count === 1 ? first : await behindProxy(started);
  const admin = await issuer.adminToken();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await issuer.stop();
  };
  return {
    ...issuer,
    dataDir,
    logs,
    admin,
    replicas: started.map((r) => r.url),
    stop,
    async destroy() {
      await stop();
      if (!issuerOptions.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Replicas behind a round-robin proxy, seen as one issuer: the proxy's URL, the first replica's objects. */
async function behindProxy(replicas: RunningIssuer[]): Promise<RunningIssuer> {
  const stopAll = async () => {
    const stopped = await Promise.allSettled(replicas.map((r) => r.stop()));
    const failed = stopped.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  };
  let proxy: RoundRobinProxy;
  try {
    proxy = await startRoundRobinProxy(replicas.map((r) => r.url));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const [first] = replicas as [RunningIssuer, ...RunningIssuer[]];
  const buses = replicas.flatMap((r) => (r.memoryBus ? [r.memoryBus] : []));
  return {
    ...first,
    url: proxy.url,
    port: proxy.port,
    relay: {
      start: () => replicas.forEach((r) => r.relay.start()),
      notify: () => replicas.forEach((r) => r.relay.notify()),
      flush: async (timeoutMs) => (await Promise.all(replicas.map((r) => r.relay.flush(timeoutMs)))).every(Boolean),
      stop: async () => void (await Promise.all(replicas.map((r) => r.relay.stop()))),
    },
    ...(buses.length > 0 ? { memoryBus: mergedBus(buses) } : {}),
    async stop() {
      await stopEach(() => proxy.stop(), stopAll);
    },
  };
}

/**
 * The in-process buses of replicas as one: whichever replica holds the outbox lease publishes
 * on its own bus, so a feed follows all of them.
 */
function mergedBus(buses: MemoryKeyBus[]): MemoryKeyBus {
  return {
    publisher: buses[0]!.publisher,
    size: () => buses.reduce((n, b) => n + b.size(), 0),
    createFeed() {
      const feeds = buses.map((b) => b.createFeed());
      return {
        async start(handler) {
          for (const feed of feeds) await feed.start(handler);
        },
        status: () => {
          const all = feeds.map((f) => f.status());
          return { ...all[0]!, replayed: all.every((s) => s.replayed) };
        },
        async stop() {
          await Promise.all(feeds.map((f) => f.stop()));
        },
      };
    },
  };
}

/** Every process's `/metrics` text, one after the other (counters are per process). */
export async function replicaMetrics(issuer: TestIssuer): Promise<string> {
  const texts = await Promise.all(issuer.replicas.map(async (url) => (await fetch(`${url}/metrics`)).text()));
  return texts.join('');
}

/** A Prometheus sample (name and labels, e.g. `x_total{result="ok"}`) summed over every process. */
export async function metricTotal(issuer: TestIssuer, sample: string): Promise<number> {
  let total = 0;
  for (const line of (await replicaMetrics(issuer)).split('\n')) if (line.startsWith(`${sample} `)) total += Number(line.slice(sample.length + 1));
  return total;
}

/**
 * A test issuer for each test (`each`, the default) or for the whole suite (`all`), destroyed
 * after it, also when its start failed. Returns an accessor for the running issuer.
 * @example
 * const issuer = useTestIssuer();
 * it('…', async () => request(issuer().url).get('/healthz'));
 */
export function useTestIssuer(options: TestIssuerOptions = {}, scope: 'each' | 'all' = 'each'): () => TestIssuer {
  let issuer: TestIssuer | undefined;
  const [setUp, tearDown] = scope === 'each' ? [beforeEach, afterEach] : [before, after];
  setUp(async () => {
    issuer = await startTestIssuer(options);
  });
  tearDown(async () => {
    await issuer?.destroy();
    issuer = undefined;
  });
  return () => {
    if (!issuer) throw new Error('the test issuer did not start');
    return issuer;
  };
}
