import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, KEY_STREAM } from '@akm/common';
import { freePort, startNats, waitFor, type TestServer } from '../../test/support/processes.js';
import { ENTRY_POINTS } from '../../test/support/entry-points.js';

const exitOf = (c: ChildProcess) => new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
const AKM_BIN = fileURLToPath(new URL('../bin/akm.js', import.meta.url));
const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...extra });

describe('issuer main: configuration', () => {
  for (const [name, value, says] of [
    ['ISSUER_PORT', 'eighty', 'ISSUER_PORT'],
    ['NATS_URL', 'not a url', 'NATS_URL: must be a URL'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL: must be a redis:// or rediss:// URL'],
    ['AKM_ADMIN_PASSWORD', 'short', 'AKM_ADMIN_PASSWORD: must be at least 12 characters'],
    ['AKM_DEFAULT_KEY_TTL_S', '999999999', 'AKM_DEFAULT_KEY_TTL_S: must not exceed AKM_MAX_KEY_TTL_S'],
  ] as const) {
    it(`with a bad ${name}, refuses to start with a message naming it`, () => {
      const run = spawnSync(process.execPath, [ENTRY_POINTS.issuer], { env: env({ [name]: value }), encoding: 'utf8' });
      expect(run.status).to.equal(78);
      expect(run.stderr).to.include(says);
    });
  }
});

describe('issuer main and npm start: real processes', function () {
  this.timeout(60_000);
  let nats: TestServer;
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    // Owned: the issuer always writes the AKM_KEYS stream, and these tests count its messages and stop the server.
    nats = await startNats({ owned: true });
    dir = mkdtempSync(join(tmpdir(), 'akm-issuer-main-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await nats.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the issuer serves, and on SIGTERM finishes the request in flight, flushes the outbox and exits 0', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [ENTRY_POINTS.issuer], {
      env: env({ ISSUER_PORT: String(port), AKM_DATA_DIR: dir, NATS_URL: nats.url, AKM_ADMIN_PASSWORD: 'a long test password' }),
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 20_000, 100);
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'a long test password' }),
    });
    const { token } = (await login.json()) as { token: string };
    // scrypt makes a sign-in take tens of milliseconds: long enough to be in flight at SIGTERM.
    const inFlight = fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'a long test password' }),
    });
    const created = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ sub: 'alice' }),
    });
    expect(created.status).to.equal(201);
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect((await inFlight).status).to.equal(200);
    expect(await exited).to.equal(0);
    const after = await fetch(`${url}/healthz`).catch(() => 'refused');
    expect(after).to.equal('refused');
    const nc = await connectNats({ url: nats.url, name: 'check' });
    const { state, config } = await (await jetstreamManager(nc)).streams.info(KEY_STREAM);
    await nc.close();
    expect(state.last_seq, 'the key.created event went out before exit').to.equal(1);
    expect(config.max_age, 'default AKM_MAX_KEY_TTL_S (365 days) plus a day').to.equal(366 * 86_400 * 1_000_000_000);
  });

  it('npm start with NATS_URL, REDIS_URL and ISSUER_URL set but empty (as a sourced .env leaves them) runs on the embedded default', async () => {
    const [issuerPort, verifierPort] = [await freePort(), await freePort()];
    const data = mkdtempSync(join(tmpdir(), 'akm-start-empty-'));
    child = spawn(process.execPath, [ENTRY_POINTS.all], {
      env: env({
        ISSUER_PORT: String(issuerPort),
        VERIFIER_PORT: String(verifierPort),
        AKM_DATA_DIR: data,
        AKM_ADMIN_PASSWORD: 'a long test password',
        NATS_URL: '',
        REDIS_URL: '',
        ISSUER_URL: '',
        AKM_JWKS_FILE: '',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const started = child;
    const exited = exitOf(started);
    await waitFor(() => out.includes('akm is running') || started.exitCode !== null, 30_000, 100);
    expect(out, `npm start exited with ${started.exitCode}`).to.include('akm is running');
    expect(out).to.include('in-process bus');
    expect(out).to.include(`verifier  http://127.0.0.1:${verifierPort}`);
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    rmSync(data, { recursive: true, force: true });
  });

  it('names every log line after its component the same way in every mode: akm-issuer, akm-verifier (and akm for npm start itself)', async () => {
    const linesOf = async (entry: string, extra: Record<string, string>, until: string) => {
      const c = spawn(process.execPath, [entry], { env: env({ LOG_LEVEL: 'info', ...extra }), stdio: ['ignore', 'pipe', 'ignore'] });
      child = c;
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes(until) || c.exitCode !== null, 30_000, 50);
      const exited = exitOf(c);
      c.kill('SIGTERM');
      expect(await exited, out).to.equal(0);
      return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    const nameOf = (lines: Array<Record<string, unknown>>, msg: string) => lines.find((l) => l.msg === msg)?.name;
    const password = { AKM_ADMIN_PASSWORD: 'a long test password' };

    const all = await linesOf(
      ENTRY_POINTS.all,
      { ...password, ISSUER_PORT: String(await freePort()), VERIFIER_PORT: String(await freePort()), AKM_DATA_DIR: mkdtempSync(join(dir, 'names-')) },
      'akm is running',
    );
    expect(nameOf(all, 'issuer listening'), 'npm start, issuer').to.equal('akm-issuer');
    expect(nameOf(all, 'verifier listening'), 'npm start, verifier').to.equal('akm-verifier');
    expect(nameOf(all, 'shutting down'), 'npm start itself').to.equal('akm');
    for (const line of all) expect(line, 'no second naming scheme').to.not.have.property('component');

    const alone = await linesOf(
      ENTRY_POINTS.issuer,
      { ...password, ISSUER_PORT: String(await freePort()), AKM_DATA_DIR: mkdtempSync(join(dir, 'names-')) },
      'issuer listening',
    );
    expect(nameOf(alone, 'issuer listening'), 'the issuer alone').to.equal('akm-issuer');
  });

  it('npm start runs the issuer and a verifier on the embedded default, a minted key works at the verifier, and its use is counted in process', async () => {
    const [issuerPort, verifierPort] = [await freePort(), await freePort()];
    const data = mkdtempSync(join(tmpdir(), 'akm-start-'));
    child = spawn(process.execPath, [ENTRY_POINTS.all], {
      env: env({
        ISSUER_PORT: String(issuerPort),
        VERIFIER_PORT: String(verifierPort),
        AKM_DATA_DIR: data,
        AKM_ADMIN_PASSWORD: 'a long test password',
        VERIFIER_USAGE_INTERVAL_MS: '100',
      }),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('akm is running'), 30_000, 100);
    expect(out).to.include(`issuer    http://127.0.0.1:${issuerPort}`);
    expect(out).to.include('in-process bus');
    const issuer = `http://127.0.0.1:${issuerPort}`;
    const login = await fetch(`${issuer}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'a long test password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const created = (await (await fetch(`${issuer}/admin/keys`, { method: 'POST', headers, body: JSON.stringify({ sub: 'alice' }) })).json()) as {
      id: string;
      key: string;
    };
    const price = () => fetch(`http://127.0.0.1:${verifierPort}/price?symbol=BTC`, { headers: { authorization: `Bearer ${created.key}` } });
    expect((await price()).status).to.equal(200);
    await fetch(`${issuer}/admin/keys/${created.id}`, { method: 'DELETE', headers });
    const refused = await price();
    expect(refused.status).to.equal(401);
    expect(((await refused.json()) as { code: string }).code).to.equal('key_revoked');
    // Without NATS the verifier hands its usage to the issuer in process.
    let totals: Record<string, number> = {};
    await waitFor(async () => {
      const res = await fetch(`${issuer}/admin/keys/${created.id}/usage`, { headers });
      totals = ((await res.json()) as { totals: Record<string, number> }).totals;
      return totals.revoked === 1;
    }, 5000, 50);
    expect(totals).to.include({ served: 1, revoked: 1 });
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    rmSync(data, { recursive: true, force: true });
  });
});

describe('first start: ports checked before anything is created, the admin password kept until used', function () {
  this.timeout(60_000);
  let dir: string;
  let holder: Server | undefined;
  let child: ChildProcess | undefined;
  const configs: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-first-start-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
    for (const c of configs) rmSync(c, { recursive: true, force: true });
  });

  const hold = async (): Promise<number> => {
    const port = await freePort();
    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(port, '127.0.0.1', resolve));
    return port;
  };

  for (const [entry, variable] of [
    [ENTRY_POINTS.all, 'ISSUER_PORT'],
    [ENTRY_POINTS.all, 'VERIFIER_PORT'],
    [ENTRY_POINTS.issuer, 'ISSUER_PORT'],
  ] as const) {
    it(`${entry} with ${variable} taken: one line naming ${variable}, exit 75, and no data directory created`, async () => {
      const busy = await hold();
      const data = join(dir, `busy-${variable}-${entry.replaceAll('/', '-')}`);
      const ports = { ISSUER_PORT: String(await freePort()), VERIFIER_PORT: String(await freePort()), [variable]: String(busy) };
      const run = spawnSync(process.execPath, [entry], { env: env({ ...ports, AKM_DATA_DIR: data }), encoding: 'utf8' });
      await new Promise((resolve) => holder!.close(resolve));
      holder = undefined;
      expect(run.status, run.stderr).to.equal(75);
      expect(run.stderr, 'one line').to.match(/^akm(-issuer)?: [^\n]+\n$/);
      expect(run.stderr).to.include(`set ${variable} to a free port`);
      expect(run.stderr).to.include(`port ${busy} on 127.0.0.1 is already in use`);
      expect(existsSync(data), 'nothing created before the ports were known to be free').to.equal(false);
    });
  }

  it('npm start without AKM_ADMIN_PASSWORD: the password is shown until used, and the banner\'s command saves the real issuer URL', async () => {
    const data = join(dir, 'fresh');
    const ports = { ISSUER_PORT: String(await freePort()), VERIFIER_PORT: String(await freePort()) };
    const start = async () => {
      const c = spawn(process.execPath, [ENTRY_POINTS.all], { env: env({ ...ports, AKM_DATA_DIR: data }), stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('akm is running') || c.exitCode !== null, 30_000, 50);
      expect(out, `exit ${c.exitCode}`).to.include('akm is running');
      return { out: () => out, stop: async () => { const e = exitOf(c); c.kill('SIGTERM'); expect(await e).to.equal(0); } };
    };
    const passwordIn = (out: string) => /with password (\S+)|its password is (\S+)/.exec(out)?.slice(1).find(Boolean);

    const first = await start();
    const password = passwordIn(first.out());
    expect(password, first.out()).to.be.a('string');
    expect(readFileSync(join(data, 'initial-admin-password'), 'utf8').trim()).to.equal(password);
    await first.stop();

    const second = await start();
    expect(passwordIn(second.out()), 'shown again: nobody signed in with it yet').to.equal(password);
    const hint = /Get an admin token: {2}npx akm (admin-token[^\n]*?--save)/.exec(second.out())?.[1];
    expect(hint, second.out()).to.equal(`admin-token --data-dir ${data} --save`);
    expect(second.out()).to.include(`npx akm --url http://127.0.0.1:${ports.ISSUER_PORT} login admin`);

    // The banner's command, run as printed from another directory, in a fresh shell (no AKM_URL).
    const config = mkdtempSync(join(tmpdir(), 'akm-first-start-cli-'));
    configs.push(config);
    const akm = (args: string[], extra: Record<string, string> = {}) =>
      spawnSync(process.execPath, [AKM_BIN, ...args], { env: env({ AKM_CONFIG_DIR: config, ...extra }), encoding: 'utf8', cwd: tmpdir() });
    const saved = akm(hint!.split(' '));
    expect(saved.status, saved.stderr).to.equal(0);
    const session = JSON.parse(readFileSync(join(config, 'session.json'), 'utf8')) as { url: string };
    expect(session.url, 'the URL of the issuer that data directory belongs to').to.equal(`http://127.0.0.1:${ports.ISSUER_PORT}`);
    const who = akm(['whoami', '--json']);
    expect(who.status, who.stderr).to.equal(0);
    expect(JSON.parse(who.stdout)).to.include({ role: 'admin' });

    const login = akm(['--url', `http://127.0.0.1:${ports.ISSUER_PORT}`, 'login', 'admin'], { AKM_PASSWORD: password! });
    expect(login.status, login.stderr).to.equal(0);
    expect(existsSync(join(data, 'initial-admin-password')), 'removed at the first sign-in').to.equal(false);
    await second.stop();

    const third = await start();
    expect(passwordIn(third.out()), 'not shown once used').to.equal(undefined);
    await third.stop();
  });
});
