/**
 * `akm login`, `logout`, `whoami` and `akm users …`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ROLES, type Role } from '@akm/common';
import type { IssuerSchemas } from '@akm/client';
import { CliError } from '../cli-error.js';
import { answerOf, connectIssuer } from '../issuer-api.js';
import { contextOf } from '../context.js';
import { printOutcome, printRecord, printRows } from '../output.js';
import { readPassword } from '../read-password.js';
import { clearSession, saveSession, sessionPath } from '../session-file.js';
import { whoamiCommand } from './whoami.js';

type KeyPolicy = NonNullable<IssuerSchemas['User']['keyPolicy']>;

/** Parses `--key-policy`: a JSON object (the issuer checks its fields), or `none` (commander keeps no null). */
function keyPolicyOption(value: string): KeyPolicy | 'none' {
  if (value === 'none') return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as KeyPolicy;
  } catch {
    // answered below
  }
  throw new InvalidArgumentError('It must be a JSON object ({"maxKeys":5,…}) or none.');
}

type User = IssuerSchemas['User'];
const COLUMNS = ['username', 'role', 'status', 'createdAt'];
const path = (username: string) => ({ params: { path: { username } } });

/** `akm login`, `akm logout` and `akm whoami`. */
export function sessionCommands(): Command[] {
  const login = new Command('login')
    .description('sign in and keep the token in a file only you can read (mode 0600)')
    .argument('<username>')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o: { passwordStdin?: boolean }, cmd: Command) => {
      const { url, json } = contextOf(cmd, { needToken: false });
      const password = await readPassword(o.passwordStdin);
      const api = connectIssuer({ url });
      const res = await answerOf(api.POST('/auth/login', { body: { username, password } }));
      const file = saveSession({ url, token: res.token, expiresAt: Math.floor(Date.parse(res.expiresAt) / 1000) });
      const summary = { username, role: res.role, expiresAt: res.expiresAt, savedTo: file };
      printRecord(summary, json);
    });

  const logout = new Command('logout')
    .description('sign out: end the sign-in token at the issuer now, and forget the saved one')
    .option('--everywhere', 'end every sign-in of your user, not only this one')
    .action(async (o: { everywhere?: boolean }, cmd: Command) => {
      const { api, json, token } = contextOf(cmd, { needToken: false });
      // Ended at the issuer when it can be; the saved copy is forgotten whatever the issuer says
      // (an expired or already ended token has nothing left to end).
      let ended: string = 'nothing to end';
      if (token) {
        try {
          await answerOf(api.POST('/auth/logout', { body: { everywhere: o.everywhere ?? false } }));
          ended = o.everywhere ? 'every sign-in' : 'this sign-in';
        } catch (err) {
          if (!(err instanceof CliError) || (err.code !== 'invalid_token' && err.code !== 'token_expired')) {
            // Kept: forgetting a token that still works, unended, would leave it live for nobody to end.
            throw new CliError(`${(err as Error).message} (the sign-in was not ended; it is still saved, try again)`);
          }
          ended = 'already ended';
        }
      }
      clearSession();
      printOutcome({ signedOut: true, ended, removed: sessionPath() }, `signed out (${ended})`, json);
    });

  return [login, logout, whoamiCommand()];
}

/** The `users` command group (admin). */
export function usersCommand(): Command {
  const users = new Command('users').description('manage users (admin)');

  users
    .command('create <username>')
    .description('create a user')
    .addOption(new Option('--role <role>', 'role of the user').choices(ROLES).default('user'))
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o: { role: Role; passwordStdin?: boolean }, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const password = await readPassword(o.passwordStdin, `Password for ${username}: `);
      printRecord(await answerOf(api.POST('/admin/users', { body: { username, password, role: o.role } })), json);
    });

  users
    .command('list')
    .description('list users')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const items: User[] = [];
      let cursor: string | null = null;
      do {
        const query = { limit: 200, ...(cursor ? { cursor } : {}) };
        const page: IssuerSchemas['UserPage'] = await answerOf(api.GET('/admin/users', { params: { query } }));
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      printRows(items, COLUMNS, json);
    });

  users
    .command('show <username>')
    .description('show one user')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.GET('/admin/users/{username}', path(username))), json);
    });

  users
    .command('update <username>')
    .description('change role, password and/or key policy')
    .addOption(new Option('--role <role>', 'new role').choices(ROLES))
    .option('--password-stdin', 'read a new password from standard input')
    .option(
      '--key-policy <json>',
      'let the user create keys of their own within it, e.g. \'{"maxKeys":5,"maxRateLimit":100,"maxTtlSeconds":2592000,"scopes":["prices:read"]}\'; "none" takes it away',
      keyPolicyOption,
    )
    .action(async (username: string, o: { role?: Role; passwordStdin?: boolean; keyPolicy?: KeyPolicy | 'none' }, cmd: Command) => {
      if (!o.role && !o.passwordStdin && o.keyPolicy === undefined) throw new CliError('give --role, --password-stdin and/or --key-policy');
      const { api, json } = contextOf(cmd);
      const body: { role?: Role; password?: string; keyPolicy?: KeyPolicy | null } = {};
      if (o.role) body.role = o.role;
      if (o.keyPolicy !== undefined) body.keyPolicy = o.keyPolicy === 'none' ? null : o.keyPolicy;
      if (o.passwordStdin) body.password = await readPassword(true);
      printRecord(await answerOf(api.PATCH('/admin/users/{username}', { ...path(username), body })), json);
    });

  for (const [name, status, note] of [
    ['disable', 'disabled', 'disable a user and all their keys'],
    ['enable', 'active', 'enable a user (their keys stay as they are)'],
  ] as const) {
    users
      .command(`${name} <username>`)
      .description(note)
      .action(async (username: string, _o: unknown, cmd: Command) => {
        const { api, json } = contextOf(cmd);
        printRecord(await answerOf(api.PATCH('/admin/users/{username}', { ...path(username), body: { status } })), json);
      });
  }

  users
    .command('delete <username>')
    .description('delete a user and revoke all their keys')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      await answerOf(api.DELETE('/admin/users/{username}', path(username)));
      printOutcome({ username, deleted: true }, `deleted ${username}`, json);
    });

  return users;
}
