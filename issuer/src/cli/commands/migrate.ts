/**
 * `akm migrate --to postgres://…`: moves a SQLite issuer (its data directory) into an empty
 * PostgreSQL database, for when one machine is not enough. The issuer must be stopped (the data
 * directory's lock says so otherwise); AKM_MASTER_KEY seals the private signing keys.
 */
import { Command } from 'commander';
import { ConfigError } from '@akm/common';
import { copySqliteToPostgres, PRIVATE_KEYS } from '../../store/copy-to-postgres.js';
import { CliError } from '../cli-error.js';
import { contextOf, dataDirOf } from '../context.js';
import { printRecord } from '../output.js';

/** The `migrate` command. */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('copy a stopped SQLite issuer (AKM_DATA_DIR) into an empty PostgreSQL database; needs AKM_MASTER_KEY')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://user:password@host:port/db')
    .option('--data-dir <dir>', 'issuer data directory')
    .action(async (o: { to: string; dataDir?: string }, cmd: Command) => {
      const { json } = contextOf(cmd, { needToken: false });
      if (!/^postgres(ql)?:\/\//.test(o.to)) throw new CliError('--to must be a postgres:// or postgresql:// URL');
      const masterKey = process.env.AKM_MASTER_KEY ?? '';
      if (masterKey.length < 32) {
        throw new ConfigError('AKM_MASTER_KEY: required, at least 32 characters: the private signing keys are sealed under it in PostgreSQL (give the issuers the same one)');
      }
      let counts: Record<string, number>;
      try {
        counts = await copySqliteToPostgres({
          dataDir: dataDirOf(o.dataDir),
          databaseUrl: o.to,
          masterKey,
          // Progress for people as each table is copied; --json prints only the counts, at the end.
          ...(json ? {} : { onCopied: (table: string, rows: number) => process.stdout.write(`copied ${table}: ${rows}\n`) }),
        });
      } catch (err) {
        throw new CliError(`migrate: ${(err as Error).message}`);
      }
      if (json) return printRecord(counts, json);
      const { [PRIVATE_KEYS]: sealed = 0, ...tables } = counts;
      const rows = Object.values(tables).reduce((n, r) => n + r, 0);
      process.stdout.write(
        `done: committed ${rows} rows of ${Object.keys(tables).length} tables and ${sealed} private signing keys (sealed under AKM_MASTER_KEY); start the issuers with DATABASE_URL and the same AKM_MASTER_KEY\n`,
      );
    });
}
