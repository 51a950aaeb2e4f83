/**
 * The database client the repositories share, on SQLite and on a real PostgreSQL: transactions
 * are all or nothing, join when nested, and never swallow a statement made outside them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, freePort, startPostgres, type TestServer } from '../../../test/support/processes.js';
import { openDatabase } from '../../src/store/database.js';
import { createPostgresClient } from '../../src/store/postgres-client.js';
import { migratePostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import type { SqlClient } from '../../src/store/sql-client.js';
import { createSqliteClient } from '../../src/store/sqlite-client.js';
import { isStorageFailure } from '../../src/store/storage-errors.js';

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SQL client', function () {
  this.timeout(60_000);
  let postgres: TestServer;
  const clients: SqlClient[] = [];
  const dirs: string[] = [];
  before(async () => {
    postgres = await startPostgres();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await postgres?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const makers: Record<string, () => Promise<SqlClient>> = {
    SQLite: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'akm-sql-client-'));
      dirs.push(dir);
      const client = createSqliteClient(openDatabase({ dataDir: dir }));
      clients.push(client);
      return client;
    },
    PostgreSQL: async () => {
      const client = createPostgresClient({ url: await createTestDatabase(postgres) });
      clients.push(client);
      await migratePostgres(client);
      return client;
    },
  };

  for (const [name, make] of Object.entries(makers)) {
    describe(`on ${name}`, () => {
      let db: SqlClient;
      const names = async () => (await db.all<{ username: string }>('SELECT username FROM users ORDER BY username')).map((r) => r.username);
      const addUser = (username: string) =>
        db.run(
          "INSERT INTO users (id, username, password_hash, role, status, created_at, updated_at, session_epoch) VALUES (?, ?, 'h', 'user', 'active', 1, 1, '')",
          [`id-${username}`, username],
        );
      beforeEach(async () => {
        db = await make();
      });

      it('a throw in a transaction rolls back every statement of it, nested ones included', async () => {
        const failed = db.transaction(async () => {
          await addUser('ann');
          await db.transaction(async () => addUser('bea'));
          throw new Error('boom');
        });
        expect(((await errorOf(failed)) as Error | undefined)?.message).to.equal('boom');
        expect(await names()).to.deep.equal([]);
        await db.transaction(async () => {
          await addUser('cid');
          await db.transaction(async () => addUser('dee'));
        });
        expect(await names()).to.deep.equal(['cid', 'dee']);
      });

      it('a statement made outside an open transaction is not rolled back with it', async () => {
        let inside!: () => void;
        const opened = new Promise<void>((resolve) => (inside = resolve));
        const failed = db.transaction(async () => {
          await addUser('ann');
          inside();
          await sleep(50);
          throw new Error('boom');
        });
        await opened;
        const outside = addUser('out');
        expect(((await errorOf(failed)) as Error | undefined)?.message).to.equal('boom');
        await outside;
        expect(await names()).to.deep.equal(['out']);
      });

      it('counts and BIGINT columns come back as numbers, and run answers the rows it changed', async () => {
        await addUser('ann');
        await addUser('bea');
        expect(await db.get('SELECT count(*) AS n FROM users')).to.deep.equal({ n: 2 });
        expect(await db.run("UPDATE users SET created_at = ? WHERE username != 'nobody'", [1_700_000_000_000])).to.equal(2);
        expect(await db.get('SELECT sum(created_at) AS s FROM users')).to.deep.equal({ s: 3_400_000_000_000 });
      });
    });
  }

  it('PostgreSQL that cannot be reached fails as a storage failure (503 storage_failed), never as a bug', async () => {
    const client = createPostgresClient({ url: `postgres://akm@127.0.0.1:${await freePort()}/akm`, connectTimeoutMs: 500 });
    clients.push(client);
    const err = await errorOf(client.ping());
    expect(isStorageFailure(err), String(err)).to.equal(true);
    expect((err as { code: string }).code).to.equal('STORE_UNAVAILABLE');
  });

  it('replicas starting together on one PostgreSQL migrate it once: every version applied exactly once', async () => {
    const url = await createTestDatabase(postgres);
    const replicas = Array.from({ length: 4 }, () => createPostgresClient({ url }));
    clients.push(...replicas);
    await Promise.all(replicas.map((c) => migratePostgres(c)));
    const applied = await replicas[0]!.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(applied.map((r) => r.version)).to.deep.equal(POSTGRES_MIGRATIONS.map((m) => m.version));
  });
});
