import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { jetstream } from '@nats-io/jetstream';
import { connectNats, encodeKeyEvent, ensureKeyStream, keySubject } from '@akm/common';
import { freePort, startNats, startRedis, waitFor, type TestServer } from '../../test/support/processes.js';
import { loadVerifierEnv } from '../src/service/config.js';
import { createTestStream, keyEvent } from './support/key-events.js';
import { createSigner, signKey } from './support/signing.js';
import { ENTRY_POINTS } from '../../test/support/entry-points.js';

describe('verifier main: configuration', () => {
  it('without NATS_URL, refuses to start and names the variable', () => {
    const run = spawnSync(process.execPath, [ENTRY_POINTS.verifier], {
      env: { PATH: process.env.PATH, AKM_JWKS_FILE: '/nonexistent.json' },
      encoding: 'utf8',
    });
    expect(run.status).to.equal(78);
    expect(run.stderr).to.include('NATS_URL: required');
  });

  it('with neither ISSUER_URL nor AKM_JWKS_FILE, or with both, names them', () => {
    expect(() => loadVerifierEnv({ NATS_URL: 'nats://x:4222' })).to.throw(/ISSUER_URL or AKM_JWKS_FILE/);
    expect(() => loadVerifierEnv({ NATS_URL: 'nats://x:4222', ISSUER_URL: 'http://i', AKM_JWKS_FILE: 'f' })).to.throw(
      /set only one/,
    );
  });

  it('with a bad VERIFIER_MAX_STALENESS_S, names it', () => {
    expect(() => loadVerifierEnv({ NATS_URL: 'nats://x:4222', AKM_JWKS_FILE: 'f', VERIFIER_MAX_STALENESS_S: '-1' })).to.throw(
      /VERIFIER_MAX_STALENESS_S/,
    );
  });
});

describe('verifier main: a real process', () => {
  let nats: TestServer;
  let redis: TestServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    dir = mkdtempSync(join(tmpdir(), 'akm-verifier-main-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await Promise.all([nats.destroy(), redis.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves keys from a JWKS file and the key stream, and exits 0 on SIGTERM', async function () {
    this.timeout(30_000);
    const signer = await createSigner();
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(signer.jwks));
    const stream = await createTestStream(nats.url, { prefix: 'akm.keys.' });
    const revoked = await signKey(signer);
    const good = await signKey(signer);
    await stream.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    await stream.publish(keyEvent(good, 'key.created', { version: 1 }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH, NATS_URL: nats.url, REDIS_URL: redis.url, AKM_JWKS_FILE: jwksFile,
      AKM_STREAM: stream.stream, VERIFIER_PORT: String(port), LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, [ENTRY_POINTS.verifier], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const url = `http://127.0.0.1:${port}`;

    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 15_000, 100);
    const ok = await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${good.token}` } });
    const no = await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${revoked.token}` } });
    expect(ok.status).to.equal(200);
    expect(no.status).to.equal(401);
    expect(((await no.json()) as { code: string }).code).to.equal('key_revoked');

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    child = undefined;
    await stream.close();
  });

  it('after a signing-key rotation, honours a new JWKS file without a restart, and re-reads it on SIGHUP (which does not stop it)', async function () {
    this.timeout(30_000);
    const oldSigner = await createSigner();
    const newSigner = await createSigner();
    const jwksFile = join(dir, 'rotating-jwks.json');
    writeFileSync(jwksFile, JSON.stringify(oldSigner.jwks));
    // A server of its own: the stream takes the default subjects, as the other test's does.
    const ownNats = await startNats({ owned: true });
    const stream = await createTestStream(ownNats.url, { prefix: 'akm.keys.' });
    const fresh = await signKey(newSigner);
    await stream.publish(keyEvent(fresh, 'key.created', { version: 1 }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH, NATS_URL: ownNats.url, REDIS_URL: redis.url, AKM_JWKS_FILE: jwksFile,
      AKM_STREAM: stream.stream, VERIFIER_PORT: String(port), LOG_LEVEL: 'info',
    };
    const out: string[] = [];
    child = spawn(process.execPath, [ENTRY_POINTS.verifier], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const price = async () => (await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${fresh.token}` } })).status;
    try {
      await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 15_000, 100);
      expect(await price(), 'signed by a key not in the file yet').to.equal(401);

      writeFileSync(`${jwksFile}.tmp`, JSON.stringify({ keys: [...oldSigner.jwks.keys, ...newSigner.jwks.keys] }));
      renameSync(`${jwksFile}.tmp`, jwksFile);
      await waitFor(async () => (await price()) === 200, 5000, 50);

      const reads = () => out.join('').split('\n').filter((l) => l.includes('"JWKS file read"')).length;
      const before = reads();
      child.kill('SIGHUP');
      await waitFor(() => reads() > before, 5000, 20);
      expect(child.exitCode, 'SIGHUP reloads, it does not stop').to.equal(null);
      expect(await price()).to.equal(200);
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      child?.kill('SIGKILL');
      child = undefined;
      await stream.close();
      await ownNats.destroy();
    }
  });
});

describe('verifier main: started before NATS', () => {
  let nats: TestServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    // Owned: this test stops the server before the verifier starts and brings it back later.
    nats = await startNats({ owned: true });
    dir = mkdtempSync(join(tmpdir(), 'akm-verifier-no-nats-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await nats?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves 503 on /readyz and protected routes, logs one warn line per retry interval and no stack, then serves once NATS is up', async function () {
    this.timeout(60_000);
    const signer = await createSigner();
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(signer.jwks));
    const good = await signKey(signer);
    const revoked = await signKey(signer);
    await nats.stop();

    const port = await freePort();
    const env = { PATH: process.env.PATH, NATS_URL: nats.url, AKM_JWKS_FILE: jwksFile, VERIFIER_PORT: String(port), LOG_LEVEL: 'info' };
    child = spawn(process.execPath, [ENTRY_POINTS.verifier], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const started = child;
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`the verifier exited ${started.exitCode}: ${out}`);
      return (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200;
    }, 15_000, 50);
    const listeningAt = Date.now();

    const ready = await fetch(`${url}/readyz`);
    const readyBody = (await ready.json()) as { code: string; detail: string };
    expect(ready.status, JSON.stringify(readyBody)).to.equal(503);
    expect(readyBody.detail).to.equal('not connected to the key stream yet');
    const price = await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${good.token}` } });
    const priceBody = (await price.json()) as { code: string };
    expect(price.status, JSON.stringify(priceBody)).to.equal(503);
    expect(priceBody.code).to.equal('unavailable');

    await new Promise((resolve) => setTimeout(resolve, 3000));
    const waitedMs = Date.now() - listeningAt;
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; name: string });
    const retries = lines.filter((l) => l.msg.startsWith('NATS not reachable yet'));
    expect(retries.length, out).to.be.at.least(2);
    // One line per attempt, an attempt a second (refused at once), and one more that may have
    // been written before the verifier was seen listening.
    expect(retries.length, out).to.be.at.most(Math.ceil(waitedMs / 1000) + 2);
    for (const line of retries) expect(line).to.include({ level: 40, name: 'akm-verifier' });
    expect(out, 'no stack trace').to.not.match(/\n\s+at /);
    expect(out).to.not.include('ConnectionError');
    expect(started.exitCode, 'still running').to.equal(null);

    await nats.start();
    // The stream the verifier follows by default (AKM_KEYS), on this server of the test's own.
    const nc = await connectNats({ url: nats.url, name: 'test-publisher' });
    // A JetStream just started may not answer its API yet (seen timing out under load): ask again.
    await waitFor(() => ensureKeyStream(nc, { maxAgeSeconds: 3600 }).then(() => true, () => false), 30_000, 200);
    for (const event of [keyEvent(good, 'key.created', { version: 1 }), keyEvent(revoked, 'key.revoked', { version: 2 })]) {
      await jetstream(nc).publish(keySubject(event.keyId), encodeKeyEvent(event), { msgID: event.id });
    }
    await nc.drain();
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 15_000, 100);
    const ok = await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${good.token}` } });
    expect(ok.status, out).to.equal(200);
    const no = await fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${revoked.token}` } });
    expect(no.status, out).to.equal(401);
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    started.kill('SIGTERM');
    expect(await exited).to.equal(0);
    child = undefined;
    expect(out, 'no stack trace').to.not.match(/\n\s+at /);
  });
});

describe('verifier main: buffered request log', () => {
  let nats: TestServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    nats = await startNats();
    dir = mkdtempSync(join(tmpdir(), 'akm-verifier-log-'));
  });
  after(async () => {
    child?.kill('SIGKILL');
    await nats?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a quiet request\'s line within a second, and loses no line of a burst at a graceful stop', async function () {
    this.timeout(30_000);
    const signer = await createSigner();
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(signer.jwks));
    const stream = await createTestStream(nats.url, { prefix: 'akm.keys.' });
    const key = await signKey(signer, { rateLimit: 10_000 });
    await stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH, NATS_URL: nats.url, REDIS_URL: '', AKM_JWKS_FILE: jwksFile,
      AKM_STREAM: stream.stream, VERIFIER_PORT: String(port), LOG_LEVEL: 'info',
    };
    let out = '';
    child = spawn(process.execPath, [ENTRY_POINTS.verifier], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const completed = (id: string) => out.split('\n').filter((l) => l.includes(`"requestId":"${id}"`) && l.includes('"request completed"')).length;
    const price = (id: string) => fetch(`${url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${key.token}`, 'x-request-id': id } });
    try {
      await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 15_000, 100);

      // One request, far below the buffer's size: the timer writes it.
      expect((await price('quiet-1')).status).to.equal(200);
      await waitFor(() => completed('quiet-1') === 1, 1000, 20);

      // A burst, then SIGTERM at once: the last lines are still in the buffer when it comes.
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => price(`burst-${i}`)));
      expect(answers.map((a) => a.status).filter((s) => s !== 200)).to.deep.equal([]);
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      await new Promise((resolve) => child!.stdout!.once('close', resolve).readableEnded && resolve(undefined));
      const lines = Array.from({ length: 300 }, (_, i) => completed(`burst-${i}`));
      expect(lines.filter((n) => n !== 1).length, 'burst requests without exactly one line').to.equal(0);
      // The last line, logged right before exit: still in the buffer when the process ends.
      expect(out.trimEnd().split('\n').pop(), 'the last line').to.include('"msg":"stopped"');
    } finally {
      child?.kill('SIGKILL');
      child = undefined;
      await stream.close();
    }
  });
});
