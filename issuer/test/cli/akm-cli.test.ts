import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ADMIN_PASSWORD, type TestIssuer } from '../support/issuer-fixture.js';
import { oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm CLI (real process against a real issuer)', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  let issuer: TestIssuer;
  let config: string;
  before(async () => {
    harness = await startCliHarness();
    ({ issuer, config } = harness);
  });
  after(() => harness.destroy());

  const akm: CliHarness['akm'] = (args, options) => harness.akm(args, options);

  it('admin-token prints a working admin token from the data directory', async () => {
    const run = await akm(['admin-token']);
    expect(run.code, run.stderr).to.equal(0);
    const list = await akm(['keys', 'list', '--json'], { env: { AKM_TOKEN: run.stdout.trim() } });
    expect(list.code, list.stderr).to.equal(0);
    expect(JSON.parse(list.stdout)).to.be.an('array');
  });

  it('signs in, keeps the token in a 0600 file, and manages keys with tables and --json', async () => {
    const login = await akm(['login', 'admin', '--password-stdin'], { stdin: `${TEST_ADMIN_PASSWORD}\n` });
    expect(login.code, login.stderr).to.equal(0);
    expect(statSync(join(config, 'session.json')).mode & 0o777).to.equal(0o600);
    expect((await akm(['whoami'])).stdout).to.match(/username\s+admin/);

    const created = await akm(['keys', 'create', '--sub', 'alice', '--rate-limit', '5', '--ttl', '3600', '--meta', 'team=a', '--json']);
    expect(created.code, created.stderr).to.equal(0);
    const key = JSON.parse(created.stdout);
    expect(key).to.include({ sub: 'alice', rateLimit: 5 });
    expect(key.key).to.be.a('string');

    const table = await akm(['keys', 'list', '--sub', 'alice']);
    expect(table.stdout.split('\n')[0]).to.match(/^ID\s+SUB\s+ROLE\s+RATELIMIT\s+STATUS/);
    expect(table.stdout).to.include(key.id);

    expect(JSON.parse((await akm(['keys', 'update', key.id, '--rate-limit', '9', '--json'])).stdout).rateLimit).to.equal(9);
    expect(JSON.parse((await akm(['keys', 'disable', key.id, '--json'])).stdout).status).to.equal('disabled');
    expect(JSON.parse((await akm(['keys', 'enable', key.id, '--json'])).stdout).status).to.equal('active');
    expect((await akm(['keys', 'revoke', key.id])).stdout).to.equal(`revoked ${key.id}\n`);
    expect(JSON.parse((await akm(['keys', 'show', key.id, '--json'])).stdout).status).to.equal('revoked');
    expect(JSON.parse((await akm(['rotate-key', '--json'])).stdout).kid).to.be.a('string');
  });

  it('manages users, and a user signed in by the CLI cannot create keys', async () => {
    await akm(['login', 'admin', '--password-stdin'], { stdin: TEST_ADMIN_PASSWORD });
    const created = await akm(['users', 'create', 'bob', '--password-stdin', '--json'], { stdin: 'bobs long password' });
    expect(created.code, created.stderr).to.equal(0);
    expect((await akm(['users', 'list'])).stdout).to.match(/bob\s+user\s+active/);
    expect(JSON.parse((await akm(['users', 'disable', 'bob', '--json'])).stdout).status).to.equal('disabled');
    expect(JSON.parse((await akm(['users', 'enable', 'bob', '--json'])).stdout).status).to.equal('active');

    const userConfig = mkdtempSync(join(tmpdir(), 'akm-cli-user-'));
    const asBob = (args: string[], stdin?: string) => akm(args, { stdin, env: { AKM_CONFIG_DIR: userConfig } });
    expect((await asBob(['login', 'bob', '--password-stdin'], 'bobs long password')).code).to.equal(0);
    const refused = await asBob(['keys', 'create', '--sub', 'bob']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal('akm: forbidden: admin role required\n');
    rmSync(userConfig, { recursive: true, force: true });

    expect((await akm(['users', 'delete', 'bob'])).stdout).to.equal('deleted bob\n');
  });

  it('exits non-zero with one line on any error', async () => {
    const missing = await akm(['keys', 'show', 'nope'], { env: { AKM_TOKEN: issuer.admin } });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal('akm: not_found: no key nope\n');
    const unreachable = await akm(['keys', 'list'], { env: { AKM_TOKEN: 'x', AKM_URL: 'http://127.0.0.1:1' } });
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr.trim().split('\n')).to.have.length(1);
    expect(unreachable.stderr).to.match(/^akm: cannot reach the issuer/);
    const wrong = await akm(['login', 'admin', '--password-stdin'], { stdin: 'wrong password', env: { AKM_CONFIG_DIR: join(config, 'x') } });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.equal('akm: invalid_credentials: wrong user name or password\n');
    const badNumber = await akm(['keys', 'create', '--sub', 'a', '--rate-limit', 'lots'], { env: { AKM_TOKEN: issuer.admin } });
    expect(badNumber.code).to.not.equal(0);
    const line = oneLineFailure(badNumber, 2);
    expect(line).to.include("'--rate-limit <n>'").and.to.include("'lots'").and.to.include('positive whole number');
    expect(line).to.match(/\(see akm keys create --help\)$/);
  });
});
