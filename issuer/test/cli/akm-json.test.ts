import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { TEST_ADMIN_PASSWORD } from '../support/issuer-fixture.js';
import { oneLineFailure, startCliHarness, type CliHarness, type RunOptions } from './cli-harness.js';

/** Every command that does something (no group, no help), as "keys create" etc. */
function leafCommands(command: Command, prefix: string[] = []): string[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return sub.commands.length ? leafCommands(sub, path) : [path.join(' ')];
  });
}

describe('akm --json on every command', function () {
  this.timeout(120_000);
  let harness: CliHarness;
  before(async () => {
    harness = await startCliHarness();
  });
  after(() => harness.destroy());

  it('every command prints only JSON on stdout (an object, or an array for list) and nothing on stderr', async () => {
    const admin = { AKM_TOKEN: harness.issuer.admin };
    // AKM_TOKEN empty: login, whoami and logout work on the saved sign-in.
    const session = { AKM_CONFIG_DIR: harness.freshConfig(), AKM_TOKEN: '' };
    const user = `json-${randomUUID().slice(0, 8)}`;
    let keyId = '';
    let poolToken = '';
    // The key id is known only once `keys create` ran, hence the lazy arguments.
    const id = () => keyId;
    const token = () => poolToken;
    // A key of the user admin, for `me disable-key` signed in as admin.
    const own = await fetch(new URL('/admin/keys', harness.issuer.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.issuer.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'admin' }),
    });
    const ownId = ((await own.json()) as { id: string }).id;
    // A key policy for the admin user, for `me create-key` signed in as admin.
    const policy = await fetch(new URL('/admin/users/admin', harness.issuer.url), {
      method: 'PATCH',
      headers: { authorization: `Bearer ${harness.issuer.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keyPolicy: { maxKeys: 10, maxRateLimit: 100, maxTtlSeconds: 86_400, scopes: ['prices:read'] } }),
    });
    expect(policy.status).to.equal(200);
    let myKeyId = '';
    const myKey = () => myKeyId;
    const steps: Array<{ command: string; args: Array<string | (() => string)>; options?: RunOptions; then?: (out: Record<string, unknown>) => void }> = [
      { command: 'admin-token', args: [] },
      { command: 'login', args: ['admin', '--password-stdin'], options: { stdin: TEST_ADMIN_PASSWORD, env: session } },
      { command: 'whoami', args: [], options: { env: session } },
      { command: 'me show', args: [], options: { env: session } },
      { command: 'me keys', args: [], options: { env: session } },
      { command: 'me disable-key', args: [ownId], options: { env: session } },
      { command: 'me create-key', args: ['--name', 'json'], options: { env: session }, then: (out) => (myKeyId = String(out.id)) },
      { command: 'me roll-key', args: [myKey, '--grace', '60'], options: { env: session }, then: (out) => (myKeyId = String(out.id)) },
      { command: 'me revoke-key', args: [myKey], options: { env: session } },
      { command: 'me password', args: ['--password-stdin'], options: { stdin: `${TEST_ADMIN_PASSWORD}\nanother long password\n`, env: session } },
      { command: 'logout', args: [], options: { env: session } },
      { command: 'pool generate', args: ['2'] },
      { command: 'pool assign', args: [], then: (out) => (poolToken = String(out.token)) },
      { command: 'pool show', args: [token] },
      { command: 'pool keep-alive', args: [token] },
      { command: 'pool unblock', args: [token] },
      { command: 'pool stats', args: [] },
      { command: 'pool delete', args: [token] },
      { command: 'rotate-key', args: [] },
      { command: 'users create', args: [user, '--password-stdin'], options: { stdin: 'a long enough password' } },
      { command: 'users list', args: [] },
      { command: 'users show', args: [user] },
      { command: 'users update', args: [user, '--role', 'admin'] },
      { command: 'users disable', args: [user] },
      { command: 'users enable', args: [user] },
      { command: 'keys create', args: ['--sub', user], then: (out) => (keyId = String(out.id)) },
      { command: 'keys list', args: ['--sub', user] },
      { command: 'keys show', args: [id] },
      { command: 'keys update', args: [id, '--rate-limit', '3'] },
      { command: 'keys roll', args: [id, '--grace', '60'], then: (out) => (keyId = String(out.id)) },
      { command: 'keys disable', args: [id] },
      { command: 'keys enable', args: [id] },
      { command: 'keys usage', args: [id] },
      { command: 'keys top', args: [] },
      { command: 'keys revoke', args: [id] },
      { command: 'users delete', args: [user] },
    ];

    // `migrate` needs a stopped issuer and a PostgreSQL: its --json is checked in akm-migrate.test.ts.
    const covered = leafCommands(buildProgram()).filter((c) => c !== 'migrate');
    expect(steps.map((s) => s.command), 'a command without a --json case here').to.have.members(covered);

    for (const step of steps) {
      const args = step.args.map((a) => (typeof a === 'function' ? a() : a));
      const run = await harness.akm([...step.command.split(' '), ...args, '--json'], { ...step.options, env: { ...admin, ...step.options?.env } });
      const label = `akm ${step.command} --json: ${run.stderr}${run.stdout}`;
      expect(run.code, label).to.equal(0);
      expect(run.stderr, label).to.equal('');
      const out: unknown = JSON.parse(run.stdout);
      if (step.command.endsWith(' list')) expect(out, label).to.be.an('array').that.is.not.empty;
      else if (step.command === 'me keys') expect(out, label).to.be.an('array');
      else expect(out, label).to.be.an('object').and.not.be.an('array');
      step.then?.(out as Record<string, unknown>);
    }
  });

  it('an error under --json is still one line on stderr and nothing on stdout', async () => {
    const run = await harness.akm(['keys', 'show', 'nope', '--json'], { env: { AKM_TOKEN: harness.issuer.admin } });
    expect(oneLineFailure(run, 1)).to.equal('akm: not_found: no key nope');
  });
});
