/**
 * `akm keys …`: create, list, show, update, disable, enable and revoke keys.
 */
import { Command, Option } from 'commander';
import { KEY_STATUSES, ROLES } from '@akm/common';
import { CliError } from '../api-client.js';
import { contextOf, positiveInt } from '../context.js';
import { printRecord, printRows } from '../output.js';

type Key = Record<string, unknown> & { id: string };
const COLUMNS = ['id', 'sub', 'role', 'rateLimit', 'status', 'expiresAt', 'name'];

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

/** The `keys` command group. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage API keys (admin)');

  keys
    .command('create')
    .description('issue a key; its string is shown this once')
    .requiredOption('--sub <owner>', 'owner of the key')
    .addOption(new Option('--role <role>', 'role of the key').choices(ROLES).default('user'))
    .option('--rate-limit <n>', 'requests per minute', positiveInt)
    .option('--ttl <seconds>', 'lifetime in seconds', positiveInt)
    .option('--expires-at <iso>', 'expiry as ISO 8601')
    .option('--name <name>', 'a label')
    .option('--meta <key=value...>', 'metadata entries')
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const body = {
        sub: o.sub,
        role: o.role,
        rateLimit: o.rateLimit,
        ttl: o.ttl,
        expiresAt: o.expiresAt,
        name: o.name,
        meta: parseMeta(o.meta as string[] | undefined),
      };
      const created = await api.request<Key>('POST', '/admin/keys', body);
      printRecord(created, json);
      if (!json) process.stderr.write('Store the key now: it is not shown again.\n');
    });

  keys
    .command('list')
    .description('list keys, newest first')
    .option('--sub <owner>', 'only this owner')
    .addOption(new Option('--status <status>', 'only keys in this state').choices([...KEY_STATUSES, 'expired']))
    .option('--limit <n>', 'page size (1-200)', positiveInt, 50)
    .option('--all', 'follow the cursor through every page')
    .action(async (o: { sub?: string; status?: string; limit: number; all?: boolean }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const items: Key[] = [];
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams({ limit: String(o.limit) });
        if (o.sub) q.set('sub', o.sub);
        if (o.status) q.set('status', o.status);
        if (cursor) q.set('cursor', cursor);
        const page: { items: Key[]; nextCursor: string | null } = await api.request('GET', `/admin/keys?${q}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (o.all && cursor);
      printRows(items, COLUMNS, json);
    });

  keys
    .command('show <id>')
    .description('show one key')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await api.request<Key>('GET', `/admin/keys/${encodeURIComponent(id)}`), json);
    });

  keys
    .command('update <id>')
    .description('change rate limit or expiry; applies on every verifier without a new key')
    .option('--rate-limit <n>', 'requests per minute', positiveInt)
    .option('--expires-at <iso>', 'expiry as ISO 8601')
    .action(async (id: string, o: { rateLimit?: number; expiresAt?: string }, cmd: Command) => {
      if (o.rateLimit === undefined && o.expiresAt === undefined) throw new CliError('give --rate-limit and/or --expires-at');
      const { api, json } = contextOf(cmd);
      printRecord(await api.request<Key>('PATCH', `/admin/keys/${encodeURIComponent(id)}`, o), json);
    });

  for (const [name, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    keys
      .command(`${name} <id>`)
      .description(`${name} a key`)
      .action(async (id: string, _o: unknown, cmd: Command) => {
        const { api, json } = contextOf(cmd);
        printRecord(await api.request<Key>('PATCH', `/admin/keys/${encodeURIComponent(id)}`, { status }), json);
      });
  }

  keys
    .command('revoke <id>')
    .description('revoke a key for good')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      await api.request('DELETE', `/admin/keys/${encodeURIComponent(id)}`);
      if (json) printRecord({ id, status: 'revoked' }, json);
      else process.stdout.write(`revoked ${id}\n`);
    });

  return keys;
}
