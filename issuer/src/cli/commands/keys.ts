/**
 * `akm keys …`: create, list, show, update, disable, enable and revoke keys.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { IssuerPaths, IssuerSchemas } from '@akm/client';
import { CREDIT_INTERVALS, KEY_STATUSES, ROLES, USAGE_OUTCOMES, type CreditsInput, type RateLimitSpec, type Role } from '@akm/common';
import { CliError } from '../cli-error.js';
import { answerOf } from '../issuer-api.js';
import { argvOf, contextOf, positiveInt, wholeNumber } from '../context.js';
import { printOutcome, printRecord, printRows, sparkline } from '../output.js';
import { fetchPages, noteMorePages, type PageOptions } from '../paging.js';

type Key = IssuerSchemas['Key'];
type KeyStatusFilter = NonNullable<NonNullable<IssuerPaths['/admin/keys']['get']['parameters']['query']>['status']>;
interface CreateOptions {
  sub: string;
  role: Role;
  rateLimit?: number;
  ttl?: number;
  expiresAt?: string;
  name?: string;
  meta?: string[];
  scope?: string[];
  limit?: RateLimitSpec[];
  credits?: number;
  refill?: CreditsInput['refill'];
}
interface UpdateOptions {
  rateLimit?: number;
  limit?: RateLimitSpec[];
  credits?: number;
  refill?: CreditsInput['refill'];
  ttl?: number;
  expiresAt?: string;
}
/** Columns of a key table. */
export const KEY_COLUMNS = ['id', 'sub', 'role', 'rateLimit', 'status', 'expiresAt', 'name'];

/** `--limit`, `--cursor` and `--all` of a paged list. */
export function addPageOptions(command: Command, defaultLimit: number): Command {
  return command
    .option('--limit <n>', 'page size (1-200)', positiveInt, defaultLimit)
    .option('--cursor <cursor>', 'start at this page (the cursor a previous list printed)')
    .addOption(new Option('--all', 'follow the cursor through every page').conflicts('cursor'));
}

function parseMeta(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CliError(`--meta takes key=value, got "${pair}"`);
    meta[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return meta;
}

/** Parses `--limit name=count/seconds` (e.g. `burst=10/1`), collecting every one given. */
export function limitOption(value: string, previous: RateLimitSpec[] | undefined): RateLimitSpec[] {
  const m = /^([^=]+)=([0-9]+)\/([0-9]+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('It must be name=count/seconds: burst=10/1, day=10000/86400.');
  return [...(previous ?? []), { name: m[1]!, limit: Number(m[2]), windowSeconds: Number(m[3]) }];
}
/** Parses `--refill amount/interval` (e.g. `1000/month`). */
function refillOption(value: string): NonNullable<CreditsInput['refill']> {
  const m = /^([1-9][0-9]*)\/([a-z]+)$/.exec(value);
  const interval = CREDIT_INTERVALS.find((i) => i === m?.[2]);
  if (!m || !interval) throw new InvalidArgumentError(`It must be amount/interval, the interval ${CREDIT_INTERVALS.join(' or ')}: 1000/month.`);
  return { amount: Number(m[1]), interval };
}

/** The credits of `--credits` and `--refill`, as the API takes them. */
function creditsOf(o: { credits?: number; refill?: CreditsInput['refill'] }): CreditsInput | undefined {
  if (o.credits === undefined) {
    if (o.refill) throw new CliError('--refill needs --credits');
    return undefined;
  }
  return { remaining: o.credits, ...(o.refill ? { refill: o.refill } : {}) };
}

const LIMIT_HELP = 'a limit, name=count/seconds (repeat for several, e.g. --limit burst=10/1 --limit day=10000/86400); instead of --rate-limit';

/** Prints a key made this moment, with its string, and says to keep it. */
export function printCreated(created: Key & { key: string }, json: boolean): void {
  printRecord(created, json);
  if (!json) process.stderr.write('Store the key now: it is not shown again.\n');
}

type Usage = IssuerSchemas['KeyUsage'];
type Counts = Record<(typeof USAGE_OUTCOMES)[number], number>;

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

/** Parses a duration like `30m`, `24h` or `7d` (a usage error otherwise). */
function duration(value: string): string {
  if (!/^[1-9][0-9]{0,5}[mhd]$/.test(value)) throw new InvalidArgumentError('It must be a whole number and a unit, m, h or d: 30m, 24h, 7d.');
  return value;
}
const secondsOf = (d: string) => Number(d.slice(0, -1)) * (UNIT_SECONDS[d.slice(-1)] ?? 0);
const requestsOf = (c: Counts) => USAGE_OUTCOMES.reduce((n, o) => n + c[o], 0);

/** The `keys` command group. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage API keys (admin)');

  keys
    .command('create')
    .description('issue a key; its string is shown this once')
    .requiredOption('--sub <owner>', 'owner of the key: a user name or a service id (required)')
    .addOption(new Option('--role <role>', 'role of the key').choices(ROLES).default('user'))
    .addOption(new Option('--rate-limit <n>', 'requests per minute (default: 60)').argParser(positiveInt).conflicts('limit'))
    .option('--limit <name=count/seconds>', LIMIT_HELP, limitOption)
    .addOption(
      new Option('--ttl <seconds>', "lifetime in seconds (default: 30 days, the issuer's AKM_DEFAULT_KEY_TTL_S)")
        .argParser(positiveInt)
        .conflicts('expiresAt'),
    )
    .option('--expires-at <iso>', 'expiry as ISO 8601, instead of --ttl')
    .option('--name <name>', 'a label')
    .option('--meta <key=value...>', 'metadata entries')
    .option('--credits <n>', 'requests the key may make in all (default: unlimited)', wholeNumber)
    .option('--refill <amount/interval>', 'refill the credits to amount every day or month (UTC), e.g. 1000/month', refillOption)
    .option('--scope <scope...>', 'scopes of the key, e.g. --scope prices:read orders:write (default: prices:read)')
    .action(async (o: CreateOptions, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const body = {
        sub: o.sub,
        role: o.role,
        rateLimit: o.rateLimit,
        limits: o.limit,
        ttl: o.ttl,
        expiresAt: o.expiresAt,
        name: o.name,
        meta: parseMeta(o.meta),
        scopes: o.scope,
        credits: creditsOf(o),
      };
      printCreated(await answerOf(api.POST('/admin/keys', { body })), json);
    });

  addPageOptions(
    keys
      .command('list')
      .description('list keys, newest first, one page (says on stderr when there are more)')
      .option('--sub <owner>', 'only this owner')
      .addOption(new Option('--status <status>', 'only keys in this state').choices([...KEY_STATUSES, 'expired'])),
    50,
  ).action(async (o: PageOptions & { sub?: string; status?: KeyStatusFilter }, cmd: Command) => {
    const { api, json } = contextOf(cmd);
    const page = await fetchPages(
      (cursor) => answerOf(api.GET('/admin/keys', { params: { query: { limit: o.limit, sub: o.sub, status: o.status, ...(cursor ? { cursor } : {}) } } })),
      o,
    );
    printRows(page.items, KEY_COLUMNS, json);
    noteMorePages(page.nextCursor, argvOf(cmd));
  });

  keys
    .command('show <id>')
    .description('show one key')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.GET('/admin/keys/{id}', { params: { path: { id } } })), json);
    });

  keys
    .command('roll <id>')
    .description('replace a key: a new key (same owner, role, limits, scopes) shown this once; the old one works --grace seconds more')
    .requiredOption('--grace <seconds>', 'how long the old key keeps working (0: not at all; at most 7 days, never past its expiry)', wholeNumber)
    .action(async (id: string, o: { grace: number }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printCreated(await answerOf(api.POST('/admin/keys/{id}/roll', { params: { path: { id } }, body: { graceSeconds: o.grace } })), json);
    });

  keys
    .command('update <id>')
    .description('change rate limit or expiry; applies on every verifier without a new key')
    .addOption(new Option('--rate-limit <n>', 'requests per minute (one limit, replacing all)').argParser(positiveInt).conflicts('limit'))
    .option('--limit <name=count/seconds>', `${LIMIT_HELP}; replaces every limit`, limitOption)
    .option('--credits <n>', 'top up: what is left from now (a new grant)', wholeNumber)
    .option('--refill <amount/interval>', 'with --credits: refill to amount every day or month (UTC)', refillOption)
    .addOption(new Option('--ttl <seconds>', 'a new lifetime, in seconds from now').argParser(positiveInt).conflicts('expiresAt'))
    .option('--expires-at <iso>', 'a new expiry as ISO 8601')
    .action(async (id: string, o: UpdateOptions, cmd: Command) => {
      const credits = creditsOf(o);
      if (o.rateLimit === undefined && o.limit === undefined && credits === undefined && o.ttl === undefined && o.expiresAt === undefined) {
        throw new CliError('give --rate-limit, --limit, --credits, --ttl or --expires-at');
      }
      const { api, json } = contextOf(cmd);
      const body = { rateLimit: o.rateLimit, limits: o.limit, credits, ttl: o.ttl, expiresAt: o.expiresAt };
      printRecord(await answerOf(api.PATCH('/admin/keys/{id}', { params: { path: { id } }, body })), json);
    });

  for (const [name, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    keys
      .command(`${name} <id>`)
      .description(`${name} a key`)
      .action(async (id: string, _o: unknown, cmd: Command) => {
        const { api, json } = contextOf(cmd);
        printRecord(await answerOf(api.PATCH('/admin/keys/{id}', { params: { path: { id } }, body: { status } })), json);
      });
  }

  keys
    .command('usage <id>')
    .description("a key's requests per period by outcome: a table and a sparkline")
    .option('--since <duration>', 'how far back: 30m, 24h, 7d', duration, '24h')
    .addOption(new Option('--granularity <g>', 'period of each row (default: by the window)').choices(['minute', 'hour', 'day']))
    .action(async (id: string, o: { since: string; granularity?: Usage['granularity'] }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const query = { from: new Date(Date.now() - secondsOf(o.since) * 1000).toISOString(), ...(o.granularity ? { granularity: o.granularity } : {}) };
      const usage: Usage = await answerOf(api.GET('/admin/keys/{id}/usage', { params: { path: { id }, query } }));
      if (json) return printRecord(usage as unknown as Record<string, unknown>, json);
      printRows(usage.items, ['at', ...USAGE_OUTCOMES], false);
      const total = requestsOf(usage.totals);
      process.stdout.write(`\n${sparkline(usage.items.map(requestsOf))}  requests per ${usage.granularity}, ${usage.from} to ${usage.to}\n`);
      process.stdout.write(`${total} requests: ${USAGE_OUTCOMES.map((oc) => `${oc} ${usage.totals[oc]}`).join(', ')}\n`);
    });

  keys
    .command('top')
    .description('the busiest keys of a window, or the most refused over their rate limit')
    .addOption(new Option('--by <outcome>', 'rank by').choices(['served', 'rate_limited']).default('served'))
    .option('--window <duration>', 'the window, ending now: 30m, 24h, 7d', duration, '24h')
    .option('--limit <n>', 'how many keys (1-100)', positiveInt, 10)
    .action(async (o: { by: 'served' | 'rate_limited'; window: string; limit: number }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const top = await answerOf(api.GET('/admin/usage/top', { params: { query: { by: o.by, window: o.window, limit: o.limit } } }));
      if (json) return printRecord(top, json);
      printRows(top.items, ['id', 'sub', 'name', 'status', ...USAGE_OUTCOMES], false);
    });

  keys
    .command('revoke <id>')
    .description('revoke a key for good')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      await answerOf(api.DELETE('/admin/keys/{id}', { params: { path: { id } } }));
      printOutcome({ id, status: 'revoked' }, `revoked ${id}`, json);
    });

  return keys;
}
