import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createTestDatabase, freePort, startNats, startPostgres, startRedis, type TestServer } from '../support/processes.js';
import { connectNats, ensureKeyStream } from '@akm/common';
import { jetstreamManager } from '@nats-io/jetstream';

/** Names of this process's child processes (the servers the harness spawned). */
function childNames(): string[] {
  const out = execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim();
  return out === '' ? [] : out.split('\n').map((l) => l.trim());
}

/** Runs `fn` with `name` set to `value` (or unset), restoring the variable afterwards. */
async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a resolved promise');
}

describe('test harness', () => {
  let nats: TestServer;
  let redis: TestServer;
  let postgres: TestServer;
  before(async function () {
    this.timeout(60_000);
    nats = await startNats({ owned: true });
    redis = await startRedis({ owned: true });
    postgres = await startPostgres({ owned: true });
  });
  after(async () => {
    await nats?.destroy();
    await redis?.destroy();
    await postgres?.destroy();
  });

  it('starts a PostgreSQL (initdb + postgres, as an unprivileged user under root) whose databases survive a kill and restart', async function () {
    this.timeout(60_000);
    const url = await createTestDatabase(postgres);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('CREATE TABLE kept (n INT); INSERT INTO kept VALUES (7)');
    await client.end();
    await postgres.kill();
    await postgres.start();
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    expect((await again.query('SELECT n FROM kept')).rows).to.deep.equal([{ n: 7 }]);
    await again.end();
  });

  it('starts a nats-server with JetStream that survives a kill and restart with its data', async () => {
    const nc = await connectNats({ url: nats.url, name: 'harness-test' });
    await ensureKeyStream(nc, { maxAgeSeconds: 3600, stream: 'H1', subjects: 'h1.*' });
    await nc.close();
    await nats.kill();
    await nats.start();
    const nc2 = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc2)).streams.info('H1');
    expect(info.config.max_msgs_per_subject).to.equal(1);
    await nc2.close();
  });

  it('starts a redis-server that answers and can be stopped and started', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    expect(await client.ping()).to.equal('PONG');
    client.disconnect();
    await redis.stop();
    await redis.start();
    const again = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    expect(await again.ping()).to.equal('PONG');
    again.disconnect();
  });

  const kinds = [
    { binary: 'nats-server', envVar: 'TEST_NATS_URL', start: startNats, own: () => nats },
    { binary: 'redis-server', envVar: 'TEST_REDIS_URL', start: startRedis, own: () => redis },
    { binary: 'postgres', envVar: 'TEST_DATABASE_URL', start: startPostgres, own: () => postgres },
  ] as const;

  for (const kind of kinds) {
    describe(`${kind.binary}`, () => {
      let empty: string;
      beforeEach(() => {
        empty = mkdtempSync(join(tmpdir(), 'akm-no-binaries-'));
      });
      afterEach(() => rmSync(empty, { recursive: true, force: true }));

      it(`when ${kind.binary} is missing and ${kind.envVar} unset, fails naming the binary, its Debian package and ${kind.envVar}`, async () => {
        const err = await withEnv(kind.envVar, undefined, () => rejection(kind.start({ searchPath: empty })));
        expect(err.message).to.include(`${kind.binary} not found in ${empty}`);
        expect(err.message).to.include(`apt-get install -y ${kind.binary}`);
        expect(err.message).to.include(`or set ${kind.envVar}`);
      });

      it(`when ${kind.binary} is missing and the test needs its own, says ${kind.envVar} does not help`, async () => {
        const err = await withEnv(kind.envVar, undefined, () => rejection(kind.start({ searchPath: empty, owned: true })));
        expect(err.message).to.include(`apt-get install -y ${kind.binary}`);
        expect(err.message).to.include(`${kind.envVar} does not help`);
      });

      it(`with ${kind.envVar} set, hands out that server without starting a process, and refuses to stop, kill or restart it`, async () => {
        const own = kind.own();
        const before = childNames().filter((n) => n === kind.binary).length;
        // An empty search path proves no binary is needed either.
        const shared = await withEnv(kind.envVar, own.url, () => kind.start({ searchPath: empty }));
        expect(shared.url).to.equal(own.url);
        expect(shared.port).to.equal(own.port);
        expect(shared.owned).to.equal(false);
        expect(childNames().filter((n) => n === kind.binary).length, 'no new server process').to.equal(before);
        for (const op of ['stop', 'kill', 'start'] as const) {
          const err = await rejection(shared[op]());
          expect(err.message).to.include(kind.envVar);
          expect(err.message).to.include('{ owned: true }');
        }
        await shared.destroy();
        expect(await canReach(kind.binary, own.url), 'destroy leaves a server it does not own running').to.equal(true);
      });

      it(`with ${kind.envVar} set, { owned: true } still starts a process of the test's own`, async function () {
        this.timeout(60_000);
        const own = kind.own();
        const before = childNames().filter((n) => n === kind.binary).length;
        const mine = await withEnv(kind.envVar, own.url, () => kind.start({ owned: true }));
        try {
          expect(mine.url).to.not.equal(own.url);
          expect(mine.owned).to.equal(true);
          expect(childNames().filter((n) => n === kind.binary).length).to.equal(before + 1);
        } finally {
          await mine.destroy();
        }
      });

      it(`with ${kind.envVar} pointing where nothing listens, fails naming the variable`, async () => {
        const scheme = { 'nats-server': 'nats', 'redis-server': 'redis', postgres: 'postgres' }[kind.binary];
        const url = `${scheme}://127.0.0.1:${await freePort()}`;
        const err = await withEnv(kind.envVar, url, () => rejection(kind.start()));
        expect(err.message).to.include(`${kind.envVar}=${url}: nothing answers`);
      });
    });
  }
});

async function canReach(binary: string, url: string): Promise<boolean> {
  if (binary === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
    return true;
  }
  if (binary === 'nats-server') {
    const nc = await connect({ servers: url, timeout: 2000 });
    await nc.close();
    return true;
  }
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}
