/**
 * Case 6: the issuer's SQLite database. It survives a SIGKILL in the middle of writes (WAL); a
 * full data directory answers 503 storage_failed and a read-only one stops the start with a
 * message naming the directory — never a bare 500, never a corrupt file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { startIssuerProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { call, shown, signInAdmin, type Answer, type IssuerAdmin } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, rememberSecret, reportFigure, RUN_DIR } from './support/run.js';
import { mountTmpfs, type Tmpfs } from './support/tmpfs.js';
import { ENTRY_POINTS } from '../support/entry-points.js';

/** Opens the issuer's database file as a tool would after a crash: integrity and which key ids it holds. */
function inspect(dataDir: string, ids: string[]): { integrity: string; missing: string[]; outboxMissing: string[] } {
  const db = new Database(join(dataDir, 'akm.sqlite'));
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
    const hasKey = db.prepare('SELECT 1 FROM keys WHERE id = ?');
    const hasEvent = db.prepare('SELECT 1 FROM outbox WHERE key_id = ?');
    return {
      integrity,
      missing: ids.filter((id) => !hasKey.get(id)),
      outboxMissing: ids.filter((id) => !hasEvent.get(id)),
    };
  } finally {
    db.close();
  }
}

const createKey = (issuerUrl: string, token: string, meta?: Record<string, string>) =>
  call(issuerUrl, '/admin/keys', { method: 'POST', token, body: { sub: 'sqlite-case', ...(meta ? { meta } : {}) } });

describe('case 6: SQLite under a kill, a full disk and a read-only directory', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const mounts: Tmpfs[] = [];
  const procs: AkmProcess[] = [];
  let nats: TestServer;

  before(async () => {
    nats = await startNats();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    for (const m of mounts) m.unmount();
    await nats?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a SIGKILL in the middle of writes loses no confirmed key and leaves a database that passes integrity_check', async () => {
    const dataDir = mkdtempSync(join(RUN_DIR, 'case6-kill-'));
    dirs.push(dataDir);
    const issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case6-issuer-killed', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    procs.push(issuer);
    const admin = await signInAdmin(issuer.url);

    const confirmed: string[] = [];
    let inFlightAtKill = 0;
    let inFlight = 0;
    let killed: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 100 && !killed; i++) {
          inFlight++;
          const res = await createKey(issuer.url, admin.token).catch(() => undefined);
          inFlight--;
          if (res?.status === 201) {
            confirmed.push(String(res.body.id));
            rememberSecret(String(res.body.key), 'API key');
          }
          if (confirmed.length >= 150 && !killed) {
            inFlightAtKill = inFlight;
            killed = issuer.kill('SIGKILL');
          }
        }
      }),
    );
    await killed;
    expect(killed, 'the issuer was killed mid-writes').to.not.equal(undefined);

    const found = inspect(dataDir, confirmed);
    expect(found.integrity).to.equal('ok');
    expect(found.missing, 'confirmed keys missing after the kill').to.deep.equal([]);
    expect(found.outboxMissing, 'confirmed keys without their event').to.deep.equal([]);

    await issuer.start();
    const ready = await call(issuer.url, '/readyz');
    expect(ready.status, shown(ready)).to.equal(200);
    const again = await createKey(issuer.url, admin.token);
    expect(again.status, shown(again)).to.equal(201);
    rememberSecret(String(again.body.key), 'API key');

    reportFigure({ case: 6, name: 'keys confirmed before SIGKILL (8 writers) / requests in flight at the kill', value: `${confirmed.length} / ${inFlightAtKill}` });
    reportFigure({ case: 6, name: 'after the kill: integrity_check, confirmed keys missing', value: `${found.integrity}, ${found.missing.length}` });
  });

  it('a full data directory answers 503 storage_failed, never a 500, and works again once there is room', async () => {
    const fs = mountTmpfs(join(RUN_DIR, 'case6-full'), 4096);
    mounts.push(fs);
    const issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case6-issuer-full-disk', dataDir: fs.dir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    procs.push(issuer);
    const admin = await signInAdmin(issuer.url);
    const confirmed: string[] = [];
    const meta = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'x'.repeat(1024)]));

    for (let i = 0; i < 5; i++) confirmed.push((await admin.mint()).id);
    // Events waiting in the outbox when the disk fills: the relay must live through failing to mark them sent.
    await nats.stop();
    for (let i = 0; i < 3; i++) confirmed.push((await admin.mint()).id);

    const free = fs.fill();
    await nats.start();
    await waitFor(() => issuer.logTail(20_000).includes('outbox store unavailable'), 15_000, 50);
    const answers: Answer[] = [];
    for (let i = 0; i < 300 && !answers.some((a) => a.status !== 201); i++) {
      const res = await createKey(issuer.url, admin.token, meta);
      answers.push(res);
      if (res.status === 201) {
        confirmed.push(String(res.body.id));
        rememberSecret(String(res.body.key), 'API key');
      }
    }
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.length, 'a write refused once the disk is full').to.be.above(0);
    for (const a of refused) {
      expect(a.status, shown(a)).to.equal(503);
      expect(a.body.code, shown(a)).to.equal('storage_failed');
    }
    // Reads keep working while writes cannot.
    const listed = await call(issuer.url, '/admin/keys?limit=5', { token: admin.token });
    expect(listed.status, shown(listed)).to.equal(200);
    expect(issuer.running(), 'the issuer is still running').to.equal(true);

    free();
    let recoveredAfter = 0;
    await waitFor(async () => {
      recoveredAfter++;
      const res = await createKey(issuer.url, admin.token, meta);
      expect(res.status === 201 || res.body.code === 'storage_failed', shown(res)).to.equal(true);
      if (res.status === 201) confirmed.push(String(res.body.id));
      if (res.status === 201) rememberSecret(String(res.body.key), 'API key');
      return res.status === 201;
    }, 10_000, 100);
    // The outbox relay lived through it: every event waiting went out.
    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 10_000, 50);

    expect(await issuer.stop(), 'exit code after SIGTERM').to.equal(0);
    const found = inspect(fs.dir, confirmed);
    expect(found.integrity).to.equal('ok');
    expect(found.missing, 'confirmed keys missing').to.deep.equal([]);

    reportFigure({ case: 6, name: 'full disk: keys written until the first refusal / refusal', value: `${answers.length - refused.length} / ${shown(refused[0]!).slice(0, 60)}…` });
    reportFigure({ case: 6, name: 'full disk: attempts until a write succeeded after room was made', value: recoveredAfter });
    reportFigure({ case: 6, name: 'full disk: integrity_check afterwards', value: found.integrity });
  });

  it('a read-only data directory stops the start with a message naming the directory, and leaves the data intact', async () => {
    const fs = mountTmpfs(join(RUN_DIR, 'case6-ro'), 8192);
    mounts.push(fs);
    const issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case6-issuer-read-only', dataDir: fs.dir, adminPassword: ADMIN_PASSWORD });
    procs.push(issuer);
    const admin = await signInAdmin(issuer.url);
    const key = await admin.mint();
    expect(await issuer.stop(), 'exit code after SIGTERM').to.equal(0);

    fs.remount('ro');
    const run = spawnSync(process.execPath, [ENTRY_POINTS.issuer], {
      env: { PATH: process.env.PATH ?? '', AKM_DATA_DIR: fs.dir, ISSUER_PORT: String(issuer.port), AKM_ADMIN_PASSWORD: ADMIN_PASSWORD },
      encoding: 'utf8',
      timeout: 30_000,
    });
    fs.remount('rw');
    expect(run.status, `exit code; stderr: ${run.stderr}`).to.not.equal(0);
    expect(run.stderr, 'names the directory').to.include(fs.dir);
    expect(run.stderr, 'says why').to.match(/read-only/i);
    expect(run.stderr, 'a message, not a stack trace').to.not.match(/\n\s+at /);

    const found = inspect(fs.dir, [key.id]);
    expect(found.integrity).to.equal('ok');
    expect(found.missing).to.deep.equal([]);
    await issuer.start();
    const shownKey = await call(issuer.url, `/admin/keys/${key.id}`, { token: admin.token });
    expect(shownKey.status, shown(shownKey)).to.equal(200);

    reportFigure({ case: 6, name: 'read-only data directory: exit code and message', value: `${run.status}: ${run.stderr.trim().split('\n')[0]}` });
  });
});
