/**
 * Moves a SQLite issuer into PostgreSQL (`akm migrate`): every table, row for row, in one
 * PostgreSQL transaction, so a copy that fails half-way leaves the database as it was. Key and
 * event positions (`seq`, which page cursors carry) are kept, and the sequences continue after
 * them; generated private signing keys are read from the data directory's files and sealed
 * under the master key. The data directory is locked meanwhile, so no issuer writes to it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase } from './database.js';
import { createPostgresClient } from './postgres-client.js';
import { migratePostgres } from './postgres-schema.js';
import { createPrivateKeyFiles } from './private-key-files.js';
import { createPrivateKeyRows } from './private-key-rows.js';
import type { SqlValue } from './sql-client.js';

/** The tables copied, in order, and the BIGSERIAL column whose sequence continues after them. */
const TABLES: Array<{ table: string; serial?: string }> = [
  { table: 'users' },
  { table: 'keys', serial: 'seq' },
  { table: 'key_events', serial: 'seq' },
  { table: 'outbox', serial: 'seq' },
  { table: 'signing_keys' },
  { table: 'usage_minutes' },
  { table: 'usage_hours' },
  { table: 'usage_reports' },
  { table: 'ended_sessions' },
  { table: 'pool_tokens', serial: 'id' },
];

/** The SQLite issuer's data could not be moved; the database was left as it was. */
export class MigrateRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrateRefusedError';
  }
}

/** Options of {@link copySqliteToPostgres}. */
export interface CopyToPostgresOptions {
  /** The SQLite issuer's data directory. */
  dataDir: string;
  /** The PostgreSQL database to fill: it must hold no issuer data yet. */
  databaseUrl: string;
  /** AKM_MASTER_KEY, under which the private signing keys are sealed. */
  masterKey: string;
  /** Told after each table (and the private signing keys) is copied, before the transaction commits. */
  onCopied?: (table: string, rows: number) => void;
}

/** The entry of {@link CopyCounts} that counts the private signing keys sealed (not a table). */
export const PRIVATE_KEYS = 'private signing keys';

/** Rows copied per table. */
export type CopyCounts = Record<string, number>;

/** Copies the SQLite issuer of `dataDir` into the (empty) PostgreSQL database. */
export async function copySqliteToPostgres(options: CopyToPostgresOptions): Promise<CopyCounts> {
  if (!existsSync(join(options.dataDir, 'akm.sqlite'))) throw new MigrateRefusedError(`no issuer data in ${options.dataDir}`);
  const lock = lockDataDir(options.dataDir);
  const source = openDatabase({ dataDir: options.dataDir });
  const target = createPostgresClient({ url: options.databaseUrl });
  try {
    await migratePostgres(target);
    const counts: CopyCounts = {};
    await target.transaction(async () => {
      const existing = await target.get<{ n: number }>('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM keys) AS n');
      if ((existing?.n ?? 0) > 0) throw new MigrateRefusedError('the PostgreSQL database already holds issuer data: migrate into an empty one');
      for (const { table, serial } of TABLES) {
        const known = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
        if (!known) continue;
        const rows = source.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, SqlValue>>;
        for (const row of rows) {
          const columns = Object.keys(row);
          await target.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => row[c]!));
        }
        if (serial) {
          await target.get(`SELECT setval(pg_get_serial_sequence('${table}', '${serial}'), coalesce(max(${serial}), 0) + 1, false) FROM ${table}`);
        }
        counts[table] = rows.length;
        options.onCopied?.(table, rows.length);
      }
      const files = createPrivateKeyFiles(options.dataDir);
      const sealed = createPrivateKeyRows(target, options.masterKey);
      let privateKeys = 0;
      for (const { kid } of await target.all<{ kid: string }>('SELECT kid FROM signing_keys')) {
        const jwk = await files.load(kid);
        if (!jwk) continue;
        await sealed.save(kid, jwk);
        privateKeys++;
      }
      counts[PRIVATE_KEYS] = privateKeys;
      options.onCopied?.(PRIVATE_KEYS, privateKeys);
    });
    return counts;
  } finally {
    await target.close();
    source.close();
    lock.release();
  }
}
