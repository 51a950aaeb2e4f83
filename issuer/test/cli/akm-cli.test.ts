import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestIssuer, TEST_ADMIN_PASSWORD, type TestIssuer } from '../support/issuer-fixture.js';

const BIN = fileURLToPath(new URL('../../../bin/akm.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('akm CLI (real process against a real issuer)', function () {
  this.timeout(60_000);
  let issuer: TestIssuer;
  let config: string;
  before(async () => {
    issuer = await startTestIssuer();
    config = mkdtempSync(join(tmpdir(), 'akm-cli-'));
  });
  after(async () => {
    await issuer.destroy();
    rmSync(config, { recursive: true, force: true });
  });

  const akm = (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', AKM_URL: issuer.url, AKM_CONFIG_DIR: config, AKM_DATA_DIR: issuer.dataDir, ...options.env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.end(options.stdin ?? '');
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

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
  });
});
