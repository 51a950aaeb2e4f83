/**
 * `akm me …`: what a signed-in user does for themselves: their profile, their keys, disabling
 * one of them, and changing their password.
 */
import { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { argvOf, contextOf, positiveInt, wholeNumber } from '../context.js';
import { answerOf } from '../issuer-api.js';
import { printOutcome, printRecord, printRows } from '../output.js';
import { fetchPages, noteMorePages, type PageOptions } from '../paging.js';
import { readPasswordPair } from '../read-password.js';
import { saveSession } from '../session-file.js';
import type { RateLimitSpec } from '@akm/common';
import { addPageOptions, KEY_COLUMNS, limitOption, printCreated } from './keys.js';

/** The `me` command group. */
export function meCommand(): Command {
  const me = new Command('me').description('your own account: profile, keys, password (any signed-in user)');

  me.command('show')
    .description('your profile')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.GET('/me')), json);
    });

  addPageOptions(me.command('keys').description('your keys (metadata only), newest first, one page'), 100).action(
    async (o: PageOptions, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const page = await fetchPages(
        (cursor) => answerOf(api.GET('/me/keys', { params: { query: { limit: o.limit, ...(cursor ? { cursor } : {}) } } })),
        o,
      );
      printRows(page.items, KEY_COLUMNS, json);
      noteMorePages(page.nextCursor, argvOf(cmd));
    },
  );

  me.command('disable-key <id>')
    .description('disable one of your keys (refused by every verifier within milliseconds)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.POST('/me/keys/{id}/disable', { params: { path: { id } } })), json);
    });

  me.command('create-key')
    .description('create a key of your own within the key policy an admin gave you; shown this once')
    .option('--rate-limit <n>', 'requests per minute (default: 60, or your policy\'s maxRateLimit if lower)', positiveInt)
    .option('--limit <name=count/seconds>', 'a limit (repeat for several), instead of --rate-limit', limitOption)
    .option('--ttl <seconds>', "lifetime in seconds (default: 30 days, or your policy's maxTtlSeconds if shorter)", positiveInt)
    .option('--scope <scope...>', "scopes of the key (default: your policy's scopes)")
    .option('--name <name>', 'a label')
    .action(async (o: { rateLimit?: number; limit?: RateLimitSpec[]; ttl?: number; scope?: string[]; name?: string }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const body = { rateLimit: o.rateLimit, limits: o.limit, ttl: o.ttl, scopes: o.scope, name: o.name };
      printCreated(await answerOf(api.POST('/me/keys', { body })), json);
    });

  me.command('revoke-key <id>')
    .description('revoke one of your keys for good')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      await answerOf(api.DELETE('/me/keys/{id}', { params: { path: { id } } }));
      printOutcome({ id, status: 'revoked' }, `revoked ${id}`, json);
    });

  me.command('roll-key <id>')
    .description('replace one of your keys: the new one is shown this once; the old one works --grace seconds more')
    .requiredOption('--grace <seconds>', 'how long the old key keeps working (0: not at all; at most 7 days)', wholeNumber)
    .action(async (id: string, o: { grace: number }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printCreated(await answerOf(api.POST('/me/keys/{id}/roll', { params: { path: { id } }, body: { graceSeconds: o.grace } })), json);
    });

  me.command('password')
    .description('change your password (asks for the current and the new one); every earlier sign-in ends, this one is renewed')
    .option('--password-stdin', 'read the current password, then the new one, one per line from standard input')
    .action(async (o: { passwordStdin?: boolean }, cmd: Command) => {
      const { api, json, url } = contextOf(cmd);
      const [currentPassword, newPassword] = await readPasswordPair(o.passwordStdin, ['Current password: ', 'New password: ']);
      if (currentPassword === newPassword) throw new CliError('the new password is the current one');
      const res = await answerOf(api.POST('/me/password', { body: { currentPassword, newPassword } }));
      // The change ended the token used for it: keep the new one, as `akm login` would.
      const file = saveSession({ url, token: res.token, expiresAt: Math.floor(Date.parse(res.expiresAt) / 1000) });
      printRecord({ username: res.username, passwordChanged: true, expiresAt: res.expiresAt, savedTo: file }, json);
    });

  return me;
}
