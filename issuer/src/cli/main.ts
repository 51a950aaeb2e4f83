/**
 * The `akm` command line. Remote commands talk to the issuer's REST API (`--url` or
 * `AKM_URL`); `admin-token` reads the data directory, `migrate` copies it into PostgreSQL. Any error: one line on stderr, exit 1
 * (exit 2 for a usage error: unknown command or option, missing argument, bad option value).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '@akm/common';
import { CliError } from './cli-error.js';
import { answerOf } from './issuer-api.js';
import { ISSUER_VERSION } from '../http/openapi.js';
import { keysCommand } from './commands/keys.js';
import { meCommand } from './commands/me.js';
import { migrateCommand } from './commands/migrate.js';
import { poolCommand } from './commands/pool.js';
import { sessionCommands, usersCommand } from './commands/users.js';
import { contextOf, dataDirOf, issuerUrlOf, positiveIntAtMost, type GlobalOptions } from './context.js';
import { MAX_ADMIN_TOKEN_TTL_SECONDS, mintLocalAdminToken } from './local-admin-token.js';
import { printRecord } from './output.js';
import { saveSession } from './session-file.js';
import { USAGE_EXIT_CODE, watchUsageErrors } from './usage-errors.js';

/** Every command's help lists the global options (`--url`, `--token`, `--json`) too. */
function showGlobalOptions(command: Command): void {
  command.configureHelp({ showGlobalOptions: true });
  for (const sub of command.commands) showGlobalOptions(sub);
}

/** Builds the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('akm')
    .description('akm: API keys as signed JWTs, verified offline, revoked everywhere within milliseconds')
    .version(ISSUER_VERSION, '-V, --version', 'print the version of akm')
    .option('--url <url>', 'issuer URL (AKM_URL; default: the saved sign-in\'s, else the one AKM_DATA_DIR records, else http://127.0.0.1:8080)')
    .option('--token <token>', 'sign-in token (AKM_TOKEN; default: the saved sign-in)')
    .option('--json', 'print JSON for scripts instead of a table');

  program
    .command('admin-token')
    .description('print a short-lived admin token minted from the data directory (AKM_DATA_DIR)')
    .option('--data-dir <dir>', 'issuer data directory')
    .option('--ttl <seconds>', `lifetime in seconds, at most ${MAX_ADMIN_TOKEN_TTL_SECONDS}`, positiveIntAtMost(MAX_ADMIN_TOKEN_TTL_SECONDS))
    .option('--save', 'also save it as the current sign-in (mode 0600)')
    .action(async (o: { dataDir?: string; ttl?: number; save?: boolean }, cmd: Command) => {
      const { json } = contextOf(cmd, { needToken: false });
      // The token is for the issuer of that data directory: save the URL it listens on, not
      // that of an earlier sign-in.
      const url = issuerUrlOf(cmd.optsWithGlobals<GlobalOptions>(), undefined, dataDirOf(o.dataDir));
      const { token, expiresAt } = await mintLocalAdminToken(process.env, o.dataDir, o.ttl);
      const savedTo = o.save ? saveSession({ url, token, expiresAt }) : undefined;
      if (json) {
        printRecord({ token, expiresAt: new Date(expiresAt * 1000).toISOString(), savedTo }, json);
        return;
      }
      if (savedTo) process.stderr.write(`saved to ${savedTo}\n`);
      process.stdout.write(`${token}\n`);
    });

  for (const command of sessionCommands()) program.addCommand(command);
  program.addCommand(keysCommand());
  program.addCommand(usersCommand());
  program.addCommand(meCommand());
  program.addCommand(poolCommand());
  program.addCommand(migrateCommand());

  program
    .command('rotate-key')
    .description('make the pre-published next signing key current and publish a new next one; the old one stays published until its tokens expire')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.POST('/admin/signing-keys/rotate')), json);
    });

  showGlobalOptions(program);
  return program;
}

const oneLine = (message: string) => message.split('\n').map((s) => s.trim()).filter(Boolean).join(' ');

/** Runs the CLI with `argv`; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  const usage = watchUsageErrors(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      const line = usage.lineOf(err);
      if (line === undefined) return 0;
      process.stderr.write(`akm: ${oneLine(line)}\n`);
      return USAGE_EXIT_CODE;
    }
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`akm: ${oneLine(err.message)}\n`);
      return 1;
    }
    process.stderr.write(`akm: unexpected error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  }
}
