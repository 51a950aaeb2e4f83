import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIssuerProcess, type AkmProcess } from '../../test/support/akm-processes.js';
import { freePort } from '../../test/support/processes.js';
import { ENTRY_POINTS } from '../../test/support/entry-points.js';

const PASSWORD = 'lock-test-password-1';

describe('one issuer per SQLite data directory', function () {
  this.timeout(60_000);
  let dir: string;
  const procs: AkmProcess[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-lock-'));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  const startSecond = async (dataDir: string) =>
    spawnSync(process.execPath, [ENTRY_POINTS.issuer], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', AKM_DATA_DIR: dataDir, AKM_ADMIN_PASSWORD: PASSWORD, ISSUER_PORT: String(await freePort()) },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('a second issuer on a data directory in use refuses to start with one line saying why; after a SIGKILL of the first, a restart is not blocked', async () => {
    const dataDir = join(dir, 'shared');
    const first = await startIssuerProcess({ logDir: join(dir, 'logs'), name: 'lock-first', dataDir, adminPassword: PASSWORD });
    procs.push(first);

    const second = await startSecond(dataDir);
    expect(second.status, second.stderr).to.equal(75);
    expect(second.stderr, 'one line').to.match(/^akm-issuer: [^\n]+\n$/);
    expect(second.stderr).to.include(`${dataDir} is in use by another issuer (pid ${first.pid()})`);
    expect(second.stderr).to.include('DATABASE_URL');
    expect((await fetch(`${first.url}/readyz`)).status, 'the first one still serves').to.equal(200);

    await first.kill('SIGKILL');
    const again = await startIssuerProcess({ logDir: join(dir, 'logs'), name: 'lock-restart', dataDir, adminPassword: PASSWORD });
    procs.push(again);
    expect((await fetch(`${again.url}/readyz`)).status, 'a stale lock of a dead process does not block').to.equal(200);
    expect(await again.stop(), 'exit code after SIGTERM').to.equal(0);

    const afterStop = await startIssuerProcess({ logDir: join(dir, 'logs'), name: 'lock-after-stop', dataDir, adminPassword: PASSWORD });
    procs.push(afterStop);
    expect(await afterStop.stop()).to.equal(0);
  });
});
