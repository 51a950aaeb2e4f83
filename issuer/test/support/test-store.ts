/**
 * Which store the issuer tests run on: SQLite (the default) or, with `AKM_TEST_STORE=postgres`
 * (the second pass of `npm test`, `.mocharc.postgres.json`), a real PostgreSQL that the harness
 * starts once for the run (or `TEST_DATABASE_URL`), each test issuer on a database of its own.
 */
import { createTestDatabase, startPostgres, type TestServer } from '../../../test/support/processes.js';

/** The store of this run. */
export type TestStoreKind = 'sqlite' | 'postgres';

/** The store the issuer tests of this run use. */
export function testStoreKind(): TestStoreKind {
  const kind = process.env.AKM_TEST_STORE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`AKM_TEST_STORE must be sqlite or postgres, not ${kind}`);
  return kind;
}

let server: Promise<TestServer> | undefined;

/** The run's PostgreSQL server, started on first use. */
export function sharedPostgres(): Promise<TestServer> {
  server ??= startPostgres();
  return server;
}

/** A fresh database on the run's PostgreSQL server. */
export async function freshDatabaseUrl(): Promise<string> {
  return createTestDatabase(await sharedPostgres());
}

/** Stops the run's PostgreSQL server, if one was started (a mocha root hook calls it). */
export async function stopSharedPostgres(): Promise<void> {
  const started = server;
  server = undefined;
  if (started) await (await started).destroy();
}
