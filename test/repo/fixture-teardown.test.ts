import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./half-way-setup.fixture.ts', import.meta.url));

describe('test fixtures: a setup that fails half-way', () => {
  it('useTestVerifier and useWiredVerifiers stop every server they had started, and mocha reports the failed hook', function () {
    this.timeout(60_000);
    const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
    // Not the harness's external servers: the fixture counts the processes it started.
    const env = { ...process.env, TEST_NATS_URL: '', TEST_REDIS_URL: '' };
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--conditions', 'akm-source', mocha, '--no-config', '--exit', '--reporter', 'dot', FIXTURE], {
      cwd: ROOT, env, encoding: 'utf8', timeout: 50_000,
    });
    const out = `${run.stdout}\n${run.stderr}`;

    expect(out, out).to.match(/3 failing/);
    expect(out, out).to.contain('up when the issuer failed: ["nats-server","redis-server"]');
    expect(out, out).to.contain('left running: []');
  });
});
