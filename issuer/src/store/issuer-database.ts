/**
 * Where the issuer keeps its data: SQLite in the data directory (the embedded default, one
 * issuer per directory: see `data-dir-lock.ts`), or PostgreSQL when a `DATABASE_URL` is given
 * (any number of replicas). Either way the schema is brought up to date before anything else.
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from '@akm/common';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase } from './database.js';
import { createPostgresClient, type PostgresClient } from './postgres-client.js';
import { migratePostgres } from './postgres-schema.js';
import { createSqliteClient, type SqliteClient } from './sqlite-client.js';

/** An open, migrated issuer database. */
export type IssuerDatabase =
  | { kind: 'sqlite'; client: SqliteClient; close(): Promise<void> }
  | { kind: 'postgres'; client: PostgresClient; close(): Promise<void> };

/** Options of {@link openIssuerDatabase}. */
export interface IssuerDatabaseOptions {
  /** The data directory (SQLite's file, generated keys). */
  dataDir: string;
  /** `postgres://…`: keep the data in PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  logger: Logger;
}

/** Opens and migrates the issuer's database. */
export async function openIssuerDatabase(options: IssuerDatabaseOptions): Promise<IssuerDatabase> {
  if (options.databaseUrl) {
    // Still the issuer's own directory: its URL and a generated first admin password go there.
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const client = createPostgresClient({
      url: options.databaseUrl,
      onIdleError: (err) => options.logger.warn({ err: err.message }, 'PostgreSQL connection lost; reconnecting on next use'),
    });
    try {
      await migratePostgres(client);
    } catch (err) {
      await client.close();
      throw err;
    }
    return { kind: 'postgres', client, close: () => client.close() };
  }
  const lock = lockDataDir(options.dataDir);
  try {
    const client = createSqliteClient(openDatabase({ dataDir: options.dataDir }));
    return {
      kind: 'sqlite',
      client,
      async close() {
        await client.close();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}
