import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { TEST_ADMIN_PASSWORD } from '../support/issuer-fixture.js';
import { jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

const PASSWORD = 'a long enough password';

function everyCommand(command: Command): Command[] {
  return [command, ...command.commands.flatMap(everyCommand)];
}

describe('akm: version, help, paging, pool and self-service commands', function () {
  this.timeout(90_000);
  let harness: CliHarness;
  let admin: Record<string, string>;
  before(async () => {
    harness = await startCliHarness();
    admin = { AKM_TOKEN: harness.issuer.admin };
    const created = await harness.akm(['users', 'create', 'sam', '--password-stdin'], { stdin: PASSWORD, env: admin });
    expect(created.code, created.stderr).to.equal(0);
  });
  after(() => harness.destroy());

  /** A fresh sign-in of `username` in a config directory of its own. */
  const signedIn = async (username: string, password: string) => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    jsonOf(await harness.akm(['login', username, '--password-stdin', '--json'], { stdin: password, env }));
    return env;
  };

  it('akm --version prints the version of @akm/issuer', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const run = await harness.akm(['--version']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal(`${pkg.version}\n`);
  });

  it('keys create --help shows the defaults (60 per minute, 30 days) and that --sub is required', async () => {
    const run = await harness.akm(['keys', 'create', '--help']);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/--sub <owner>\s+owner of the key[^\n]*\n?[^\n]*\(required\)/);
    expect(run.stdout).to.match(/--rate-limit <n>\s+requests per minute \(default: 60\)/);
    expect(run.stdout).to.match(/--ttl <seconds>\s+lifetime in seconds \(default: 30 days/);
  });

  it('every command\'s help documents --json (and --url, --token)', () => {
    const program = buildProgram();
    const commands = everyCommand(program).filter((c) => c.name() !== 'help');
    expect(commands.length).to.be.at.least(30);
    for (const command of commands) {
      const help = command.helpInformation();
      for (const option of ['--json', '--url <url>', '--token <token>']) expect(help, command.name()).to.include(option);
    }
  });

  it('keys create --scope gives the key those scopes (prices:read without it); a bad scope is the issuer\'s 400', async () => {
    const scoped = jsonOf<{ scopes: string[] }>(await harness.akm(['keys', 'create', '--sub', 'scoped', '--scope', 'orders:read', 'orders:write', '--json'], { env: admin }));
    expect(scoped.scopes).to.deep.equal(['orders:read', 'orders:write']);
    const plain = jsonOf<{ scopes: string[] }>(await harness.akm(['keys', 'create', '--sub', 'scoped', '--json'], { env: admin }));
    expect(plain.scopes).to.deep.equal(['prices:read']);
    const bad = await harness.akm(['keys', 'create', '--sub', 'scoped', '--scope', 'a,b'], { env: admin });
    expect(bad.code, bad.stderr).to.not.equal(0);
    expect(bad.stderr).to.include('scopes');
  });

  it('keys create and update --limit name=count/seconds set several limits; --limit with --rate-limit is a usage error', async () => {
    const key = jsonOf<{ id: string; limits: unknown[] }>(
      await harness.akm(['keys', 'create', '--sub', 'limited', '--limit', 'burst=10/1', '--limit', 'day=10000/86400', '--json'], { env: admin }),
    );
    expect(key.limits).to.deep.equal([
      { name: 'burst', limit: 10, windowSeconds: 1 },
      { name: 'day', limit: 10000, windowSeconds: 86400 },
    ]);
    const updated = jsonOf<{ limits: unknown[] }>(await harness.akm(['keys', 'update', key.id, '--limit', 'hour=50/3600', '--json'], { env: admin }));
    expect(updated.limits).to.deep.equal([{ name: 'hour', limit: 50, windowSeconds: 3600 }]);
    const both = await harness.akm(['keys', 'update', key.id, '--limit', 'hour=50/3600', '--rate-limit', '5'], { env: admin });
    expect(oneLineFailure(both, 2)).to.include('cannot be used with');
    const bad = await harness.akm(['keys', 'update', key.id, '--limit', 'hour=50'], { env: admin });
    expect(oneLineFailure(bad, 2)).to.include('name=count/seconds');
  });

  it('keys create --credits N --refill amount/interval gives a key credits; keys update --credits tops them up; a bad refill is a usage error', async () => {
    const key = jsonOf<{ id: string; credits: { granted: number; refill?: unknown } }>(
      await harness.akm(['keys', 'create', '--sub', 'metered', '--credits', '100', '--refill', '100/day', '--json'], { env: admin }),
    );
    expect(key.credits).to.deep.include({ granted: 100, refill: { amount: 100, interval: 'day' } });
    const topped = jsonOf<{ credits: { granted: number } }>(await harness.akm(['keys', 'update', key.id, '--credits', '500', '--json'], { env: admin }));
    expect(topped.credits.granted).to.equal(500);
    const bad = await harness.akm(['keys', 'create', '--sub', 'metered', '--credits', '1', '--refill', '5/week'], { env: admin });
    expect(oneLineFailure(bad, 2)).to.include('amount/interval');
  });

  it('keys roll --grace prints the new key once; me roll-key rolls one of your own keys; --grace is required', async () => {
    const old = jsonOf<{ id: string }>(await harness.akm(['keys', 'create', '--sub', 'rolling', '--json'], { env: admin }));
    const rolled = await harness.akm(['keys', 'roll', old.id, '--grace', '3600']);
    expect(rolled.code, rolled.stderr).to.not.equal(0);
    const run = await harness.akm(['keys', 'roll', old.id, '--grace', '3600', '--json'], { env: admin });
    const fresh = jsonOf<{ id: string; key: string; rolledFrom: string }>(run);
    expect(fresh.rolledFrom).to.equal(old.id);
    expect(fresh.key).to.be.a('string');
    const missing = await harness.akm(['keys', 'roll', fresh.id], { env: admin });
    expect(oneLineFailure(missing, 2)).to.include('--grace');

    const mine = jsonOf<{ id: string }>(await harness.akm(['keys', 'create', '--sub', 'sam', '--json'], { env: admin }));
    const sam = await signedIn('sam', PASSWORD);
    const refused = await harness.akm(['me', 'roll-key', mine.id, '--grace', '0'], { env: sam });
    expect(oneLineFailure(refused, 1)).to.include('policy');
    const policy = JSON.stringify({ maxKeys: 5, maxRateLimit: 100, maxTtlSeconds: 86_400, scopes: ['prices:read'] });
    const granted = await harness.akm(['users', 'update', 'sam', '--key-policy', policy], { env: admin });
    expect(granted.code, granted.stderr).to.equal(0);
    const own = jsonOf<{ rolledFrom: string; sub: string }>(await harness.akm(['me', 'roll-key', mine.id, '--grace', '0', '--json'], { env: sam }));
    expect(own).to.include({ rolledFrom: mine.id, sub: 'sam' });
  });

  it('users update --key-policy lets a user me create-key and me revoke-key within it; none takes it away', async () => {
    await harness.akm(['users', 'create', 'selfie', '--password-stdin'], { stdin: PASSWORD, env: admin });
    const policy = '{"maxKeys":3,"maxRateLimit":50,"maxTtlSeconds":86400,"scopes":["prices:read"]}';
    const set = jsonOf<{ keyPolicy: { maxKeys: number } }>(await harness.akm(['users', 'update', 'selfie', '--key-policy', policy, '--json'], { env: admin }));
    expect(set.keyPolicy.maxKeys).to.equal(3);
    const env = await signedIn('selfie', PASSWORD);
    const own = jsonOf<{ id: string; rateLimit: number; key: string }>(await harness.akm(['me', 'create-key', '--name', 'cli', '--json'], { env }));
    expect(own.rateLimit, "the policy's maxRateLimit, under 60").to.equal(50);
    const over = await harness.akm(['me', 'create-key', '--rate-limit', '51'], { env });
    expect(over.code).to.not.equal(0);
    expect(over.stderr).to.include('maxRateLimit');
    expect((await harness.akm(['me', 'revoke-key', own.id], { env })).code).to.equal(0);
    await harness.akm(['users', 'update', 'selfie', '--key-policy', 'none'], { env: admin });
    const none = await harness.akm(['me', 'create-key'], { env });
    expect(none.stderr).to.include('no key policy');
  });

  it('keys update --ttl sets a new lifetime from now; with --expires-at it is a usage error', async () => {
    const key = jsonOf<{ id: string; expiresAt: string }>(await harness.akm(['keys', 'create', '--sub', 'ttl-test', '--ttl', '60', '--json'], { env: admin }));
    const before = Date.now();
    const updated = jsonOf<{ expiresAt: string }>(await harness.akm(['keys', 'update', key.id, '--ttl', '7200', '--json'], { env: admin }));
    const lifetime = Date.parse(updated.expiresAt) - before;
    expect(lifetime).to.be.within(7_195_000, 7_205_000);
    const both = await harness.akm(['keys', 'update', key.id, '--ttl', '60', '--expires-at', '2030-01-01T00:00:00Z'], { env: admin });
    expect(oneLineFailure(both, 2)).to.include('cannot be used with');
  });

  it('keys list says on stderr when there are more pages, with the command that fetches the next one', async () => {
    for (let i = 0; i < 3; i++) expect((await harness.akm(['keys', 'create', '--sub', 'paged-cli'], { env: admin })).code).to.equal(0);
    const first = await harness.akm(['keys', 'list', '--sub', 'paged-cli', '--limit', '2', '--json'], { env: admin });
    const firstIds = jsonOf<Array<{ id: string }>>(first).map((k) => k.id);
    expect(firstIds).to.have.length(2);
    const next = /more on the next page: akm (.+ --cursor \S+)/.exec(first.stderr)?.[1];
    expect(next, first.stderr).to.be.a('string');
    expect(next).to.include('keys list --sub paged-cli --limit 2 --json');
    const second = await harness.akm(next!.split(' '), { env: admin });
    const secondIds = jsonOf<Array<{ id: string }>>(second).map((k) => k.id);
    expect(secondIds).to.have.length(1);
    expect(firstIds).to.not.include(secondIds[0]);
    expect(second.stderr, 'the last page says nothing').to.equal('');
    const all = await harness.akm(['keys', 'list', '--sub', 'paged-cli', '--limit', '2', '--all'], { env: admin });
    expect(all.stderr).to.equal('');
  });

  it('pool generate, assign, show, keep-alive, unblock, stats and delete', async () => {
    const { tokens } = jsonOf<{ tokens: string[] }>(await harness.akm(['pool', 'generate', '2', '--json'], { env: admin }));
    expect(tokens).to.have.length(2);
    const sam = await signedIn('sam', PASSWORD);
    const assigned = jsonOf<{ token: string; state: string; assignedTo: string }>(await harness.akm(['pool', 'assign', '--json'], { env: sam }));
    expect(assigned).to.include({ state: 'assigned', assignedTo: 'sam' });
    expect(jsonOf(await harness.akm(['pool', 'show', assigned.token, '--json'], { env: sam }))).to.include({ assignedTo: 'sam' });
    expect(jsonOf(await harness.akm(['pool', 'keep-alive', assigned.token, '--json'], { env: sam }))).to.include({ state: 'assigned' });
    expect(jsonOf(await harness.akm(['pool', 'unblock', assigned.token, '--json'], { env: sam }))).to.include({ state: 'available' });
    expect(jsonOf(await harness.akm(['pool', 'stats', '--json'], { env: sam }))).to.deep.equal({ available: 2, assigned: 0, total: 2 });
    const refused = await harness.akm(['pool', 'delete', assigned.token], { env: sam });
    expect(oneLineFailure(refused, 1)).to.match(/^akm: forbidden: /);
    const deleted = await harness.akm(['pool', 'delete', assigned.token], { env: admin });
    expect(deleted.stdout).to.equal(`deleted ${assigned.token}\n`);
    const badCount = await harness.akm(['pool', 'generate', 'lots'], { env: admin });
    expect(oneLineFailure(badCount, 2)).to.include('positive whole number');
  });

  it('me show, me keys and me disable-key act on the signed-in user\'s own account only', async () => {
    const mine = jsonOf<{ id: string }>(await harness.akm(['keys', 'create', '--sub', 'sam', '--json'], { env: admin }));
    const theirs = jsonOf<{ id: string }>(await harness.akm(['keys', 'create', '--sub', 'someone-else', '--json'], { env: admin }));
    const sam = await signedIn('sam', PASSWORD);
    expect(jsonOf(await harness.akm(['me', 'show', '--json'], { env: sam }))).to.include({ username: 'sam', role: 'user' });
    const keys = jsonOf<Array<{ id: string }>>(await harness.akm(['me', 'keys', '--json'], { env: sam }));
    expect(keys.map((k) => k.id)).to.include(mine.id).and.not.include(theirs.id);
    expect(jsonOf(await harness.akm(['me', 'disable-key', mine.id, '--json'], { env: sam }))).to.include({ id: mine.id, status: 'disabled' });
    const other = await harness.akm(['me', 'disable-key', theirs.id], { env: sam });
    expect(oneLineFailure(other, 1)).to.match(/^akm: not_found: /);
  });

  it('me password changes the password with the current one and keeps the new sign-in; the old password no longer works', async () => {
    await harness.akm(['users', 'create', 'tess', '--password-stdin'], { stdin: PASSWORD, env: admin });
    const tess = await signedIn('tess', PASSWORD);
    const wrong = await harness.akm(['me', 'password', '--password-stdin'], { stdin: 'not it at all\nyet another password\n', env: tess });
    expect(oneLineFailure(wrong, 1)).to.include('currentPassword');
    const changed = await harness.akm(['me', 'password', '--password-stdin', '--json'], { stdin: `${PASSWORD}\nyet another password\n`, env: tess });
    expect(jsonOf(changed)).to.include({ username: 'tess', passwordChanged: true });
    expect(jsonOf(await harness.akm(['whoami', '--json'], { env: tess })), 'the saved sign-in was renewed').to.include({ username: 'tess' });
    const old = await harness.akm(['login', 'tess', '--password-stdin'], { stdin: PASSWORD, env: { AKM_CONFIG_DIR: harness.freshConfig() } });
    expect(oneLineFailure(old, 1)).to.include('invalid_credentials');
    jsonOf(await harness.akm(['login', 'tess', '--password-stdin', '--json'], { stdin: 'yet another password', env: { AKM_CONFIG_DIR: harness.freshConfig() } }));
  });

  it('logout ends the sign-in token at the issuer, not only the saved copy', async () => {
    const env = await signedIn('admin', TEST_ADMIN_PASSWORD);
    const { token } = JSON.parse(readFileSync(`${env.AKM_CONFIG_DIR}/session.json`, 'utf8')) as { token: string };
    const out = await harness.akm(['logout'], { env });
    expect(out.stdout).to.equal('signed out (this sign-in)\n');
    const reused = await harness.akm(['whoami'], { env: { AKM_CONFIG_DIR: harness.freshConfig(), AKM_TOKEN: token } });
    expect(oneLineFailure(reused, 1)).to.match(/^akm: invalid_token: /);
  });
});
