import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createTestDatabase, startPostgres, startRedis, type TestServer } from '../../../test/support/processes.js';
import type { TokenPoolStore } from '../../src/pool/index.js';
import { postgresStores, redisStores, sqliteStores } from './pool-test-support.js';

const WORKER = join(fileURLToPath(new URL('.', import.meta.url)), 'pool-assign-worker.ts');
const LIMITS = { maxTokens: 1000, keepAliveMs: 300_000 };

interface WorkerResult {
  tokens: string[];
  empty: number;
}

/** Starts a worker and resolves once it is ready; `go()` lets it assign and resolves to its result. */
async function startWorker(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  expect(first).to.equal('ready');
  return {
    async go(): Promise<WorkerResult> {
      const answer = once(lines, 'line');
      child.stdin!.write('go\n');
      const [line] = (await answer) as [string];
      await once(child, 'exit');
      return JSON.parse(line) as WorkerResult;
    },
  };
}

async function fill(store: TokenPoolStore, count: number): Promise<void> {
  const added = await store.addTokens(Array.from({ length: count }, (_, i) => `mp${i}`), LIMITS);
  expect(added.ok).to.equal(true);
}

/** Two processes each try `attempts` assignments at once on a pool of `size`. */
async function assignFromTwoProcesses(args: string[], size: number, attempts: number): Promise<void> {
  const workers = await Promise.all([startWorker([...args, String(attempts)]), startWorker([...args, String(attempts)])]);
  const results = await Promise.all(workers.map((w) => w.go()));
  const tokens = results.flatMap((r) => r.tokens);
  expect(tokens.length, 'tokens handed out').to.equal(size);
  expect(new Set(tokens).size, 'distinct tokens').to.equal(size);
  expect(results.every((r) => r.tokens.length > 0), 'both processes got tokens').to.equal(true);
  expect(results.reduce((n, r) => n + r.empty, 0)).to.equal(2 * attempts - size);
}

describe('pool shared by two processes', function () {
  this.timeout(60_000);
  let redis: TestServer;
  let postgres: TestServer;
  const redisPool = redisStores(() => redis.url);
  const sqlite = sqliteStores();
  const postgresPool = postgresStores();
  before(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  });
  after(async () => {
    redisPool.cleanup();
    sqlite.cleanup();
    await postgresPool.cleanup();
    await redis?.destroy();
    await postgres?.destroy();
  });

  it('on one Redis, never hands out the same token twice', async () => {
    const prefix = `mp:${Date.now()}:`;
    await fill(redisPool.make(Date.now, prefix), 300);
    await assignFromTwoProcesses(['redis', redis.url, prefix], 300, 250);
  });

  it('on one PostgreSQL, through three connection pools in each process, never hands out the same token twice', async () => {
    const url = await createTestDatabase(postgres);
    await fill(await postgresPool.make(Date.now, url), 300);
    await assignFromTwoProcesses(['postgres', url, '-'], 300, 250);
  });

  it('on one SQLite file, never hands out the same token twice', async () => {
    const file = join(sqlite.dir, 'shared.sqlite');
    await fill(sqlite.make(Date.now, file), 300);
    await assignFromTwoProcesses(['sqlite', file, '-'], 300, 250);
  });
});
