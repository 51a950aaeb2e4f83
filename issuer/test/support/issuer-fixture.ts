/**
 * A real issuer on a free port with a throwaway data directory, its log lines captured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@akm/common';
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

/**
 * Starts an issuer for a test; `dataDir` may be reused to test restarts. On the PostgreSQL pass
 * (see `test-store.ts`) it keeps its data in a database of its own (the same one for a reused
 * `dataDir`) unless `databaseUrl` is given.
 */
export async function startTestIssuer(options: Partial<IssuerOptions> = {}): Promise<TestIssuer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'akm-issuer-'));
  const logs: string[] = [];
  const logger = createLogger({ name: 'akm-issuer', level: 'debug', destination: captureLogs(logs) });
  let databaseUrl = options.databaseUrl;
  if (databaseUrl === undefined && testStoreKind() === 'postgres') {
    databaseUrl = databases.get(dataDir) ?? (await freshDatabaseUrl());
    databases.set(dataDir, databaseUrl);
  }
  const issuer = await startIssuer({
    port: 0,
    logger,
    adminPassword: TEST_ADMIN_PASSWORD,
    ...options,
    dataDir,
    ...(databaseUrl ? { databaseUrl, masterKey: options.masterKey ?? TEST_MASTER_KEY } : {}),
  });
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
    stop,
    async destroy() {
      await stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A test issuer for each test (`each`, the default) or for the whole suite (`all`), destroyed
 * after it, also when its start failed. Returns an accessor for the running issuer.
 * @example
 * const issuer = useTestIssuer();
 * it('…', async () => request(issuer().url).get('/healthz'));
 */
export function useTestIssuer(options: Partial<IssuerOptions> = {}, scope: 'each' | 'all' = 'each'): () => TestIssuer {
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
