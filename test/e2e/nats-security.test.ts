/**
 * NATS as shipped (deploy/nats/nats-server.conf): one account, an issuer user and a verifier
 * user with their permissions, optionally over TLS. Real nats-server, issuer and verifier
 * processes configured only through their environment, as in production.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { connectNats, encodeKeyEvent, KEY_STREAM, keySubject, type KeyEvent, type NatsConnection } from '@akm/common';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { createTestCertificates, type TestCertificates } from '../support/tls.js';

const NATS_CONFIG = fileURLToPath(new URL('../../deploy/nats/nats-server.conf', import.meta.url));
const ADMIN_PASSWORD = `nats-security-${randomUUID()}`;

/**
 * Passwords for the two users of the shipped configuration, new for each server. nats-server
 * parses a variable's value as a config token, so a value starting with a digit ("3e…") is read
 * as a number and the server refuses to start: they start with a letter, as the README says.
 */
function natsPasswords() {
  return { issuer: `p${randomBytes(18).toString('hex')}`, verifier: `p${randomBytes(18).toString('hex')}` };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}
async function call(url: string, path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const shown = (a: Answer) => `HTTP ${a.status}: ${a.text.slice(0, 400)}`;

/** An issuer and a verifier on `nats`, each with its own user; mints and revokes keys. */
async function startAkm(nats: TestServer, passwords: { issuer: string; verifier: string }, dir: string, extraEnv: Record<string, string> = {}) {
  const logDir = join(dir, 'logs');
  const issuer = await startIssuerProcess({
    logDir, name: 'issuer', dataDir: join(dir, 'data'), adminPassword: ADMIN_PASSWORD, natsUrl: nats.url,
    env: { NATS_USER: 'akm-issuer', NATS_PASSWORD: passwords.issuer, ...extraEnv },
  });
  const verifier = await startVerifierProcess({
    logDir, name: 'verifier', issuerUrl: issuer.url, natsUrl: nats.url,
    env: { NATS_USER: 'akm-verifier', NATS_PASSWORD: passwords.verifier, ...extraEnv },
  });
  const login = await call(issuer.url, '/auth/login', { method: 'POST', body: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status, shown(login)).to.equal(200);
  const token = String(login.body.token);
  await waitFor(async () => (await call(verifier.url, '/readyz')).status === 200, 20_000, 50);
  return {
    issuer,
    verifier,
    async mint() {
      const res = await call(issuer.url, '/admin/keys', { method: 'POST', token, body: { sub: 'carol', rateLimit: 1000 } });
      expect(res.status, shown(res)).to.equal(201);
      return { id: String(res.body.id), key: String(res.body.key) };
    },
    async revoke(id: string) {
      const res = await call(issuer.url, `/admin/keys/${id}`, { method: 'DELETE', token });
      expect(res.status, shown(res)).to.equal(204);
    },
    price: (key: string) => call(verifier.url, '/price?symbol=BTC', { token: key }),
    /** Waits until the verifier answers `status` for `key`. */
    until: (key: string, status: number) =>
      waitFor(async () => (await call(verifier.url, '/price?symbol=BTC', { token: key })).status === status, 5000, 20),
  };
}

describe('e2e: NATS with accounts and permissions (deploy/nats/nats-server.conf)', function () {
  this.timeout(60_000);
  let nats: TestServer | undefined;
  let dir: string;
  let akm: Awaited<ReturnType<typeof startAkm>> | undefined;
  const passwords = natsPasswords();
  const open: NatsConnection[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-nats-security-'));
    nats = await startNats({
      configFile: NATS_CONFIG,
      env: { AKM_NATS_ISSUER_PASSWORD: passwords.issuer, AKM_NATS_VERIFIER_PASSWORD: passwords.verifier },
    });
    akm = await startAkm(nats, passwords, dir);
  });
  after(async () => {
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all([akm?.issuer.kill(), akm?.verifier.kill()]);
    await nats?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectAs = async (user: string, password: string) => {
    const nc = await connectNats({ url: nats!.url, name: `test-${user}`, user, password, timeoutMs: 2000 });
    open.push(nc);
    return nc;
  };

  it('the issuer publishes with its user and the verifier follows with its own: a revocation is refused', async () => {
    const { id, key } = await akm!.mint();
    expect((await akm!.price(key)).status).to.equal(200);

    await akm!.revoke(id);
    await akm!.until(key, 401);

    const res = await akm!.price(key);
    expect(res.body.code, shown(res)).to.equal('key_revoked');
  });

  it("a verifier's credentials cannot publish a key event: the server refuses it and the verifier never applies it", async () => {
    const { id, key } = await akm!.mint();
    await akm!.revoke(id);
    await akm!.until(key, 401);
    const asIssuer = await connectAs('akm-issuer', passwords.issuer);
    const seqBefore = (await (await jetstreamManager(asIssuer)).streams.info(KEY_STREAM)).state.last_seq;

    const asVerifier = await connectAs('akm-verifier', passwords.verifier);
    const nowS = Math.floor(Date.now() / 1000);
    const forged: KeyEvent = {
      v: 2, type: 'key.enabled', id: randomUUID(), keyId: id, sub: 'carol', role: 'admin', status: 'active',
      rateLimit: 1_000_000, expiresAt: nowS + 3600, version: 1_000, at: nowS,
    };
    const viaJetStream = await jetstream(asVerifier, { timeout: 2000 })
      .publish(keySubject(id), encodeKeyEvent(forged))
      .then(() => 'stored', (err: Error) => err.message);
    const refusals: string[] = [];
    void (async () => {
      for await (const s of asVerifier.status()) if (s.type === 'error') refusals.push(String(s.error));
    })();
    asVerifier.publish(keySubject(id), encodeKeyEvent({ ...forged, id: randomUUID() }));
    await asVerifier.flush();

    expect(viaJetStream).to.match(/permission/i);
    await waitFor(() => refusals.length > 0, 3000);
    expect(refusals[0]).to.match(/permission.*publish/i);
    // A marker revoked after the forgery: once the verifier refuses it, it has seen everything before it.
    const marker = await akm!.mint();
    await akm!.revoke(marker.id);
    await akm!.until(marker.key, 401);
    const res = await akm!.price(key);
    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('key_revoked');
    const seqAfter = (await (await jetstreamManager(asIssuer)).streams.info(KEY_STREAM)).state.last_seq;
    expect(seqAfter, 'only the marker was stored (created, revoked)').to.equal(seqBefore + 2);
  });

  it("a verifier's credentials cannot purge or delete the key stream", async () => {
    const jsm = await jetstreamManager(await connectAs('akm-verifier', passwords.verifier), { timeout: 2000 });
    const purge = await jsm.streams.purge(KEY_STREAM).then(() => 'purged', (err: Error) => err.message);
    const remove = await jsm.streams.delete(KEY_STREAM).then(() => 'deleted', (err: Error) => err.message);

    expect(purge).to.match(/permission/i);
    expect(remove).to.match(/permission/i);
    const info = await (await jetstreamManager(await connectAs('akm-issuer', passwords.issuer))).streams.info(KEY_STREAM);
    expect(info.state.messages).to.be.greaterThan(0);
  });

  it('refuses a wrong password and a client without credentials', async () => {
    const wrong = await connectNats({ url: nats!.url, name: 'wrong', user: 'akm-verifier', password: 'not-it', timeoutMs: 2000 }).then(
      (nc) => (open.push(nc), 'connected'),
      (err: Error) => err.message,
    );
    const anonymous = await connectNats({ url: nats!.url, name: 'anonymous', timeoutMs: 2000 }).then(
      (nc) => (open.push(nc), 'connected'),
      (err: Error) => err.message,
    );

    expect(wrong).to.match(/authorization/i);
    expect(anonymous).to.match(/authorization/i);
  });

  it('a verifier started with a wrong password stops at start-up, saying why', async () => {
    const logDir = join(dir, 'logs');
    let started: AkmProcess | undefined;
    const failure = await startVerifierProcess({
      logDir, name: 'verifier-wrong-password', issuerUrl: akm!.issuer.url, natsUrl: nats!.url,
      env: { NATS_USER: 'akm-verifier', NATS_PASSWORD: 'not-it' }, startTimeoutMs: 10_000,
    }).then((p) => ((started = p), 'started'), (err: Error) => err.message);
    await started?.kill();

    expect(failure).to.match(/exited/);
    expect(failure).to.match(/authorization/i);
  });
});

describe('e2e: NATS over TLS with the shipped configuration', function () {
  this.timeout(60_000);
  let certs: TestCertificates | undefined;
  let nats: TestServer | undefined;
  let dir: string;
  let akm: Awaited<ReturnType<typeof startAkm>> | undefined;
  const passwords = natsPasswords();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-nats-tls-'));
    certs = createTestCertificates();
    nats = await startNats({
      configFile: NATS_CONFIG,
      env: { AKM_NATS_ISSUER_PASSWORD: passwords.issuer, AKM_NATS_VERIFIER_PASSWORD: passwords.verifier },
      tls: { certFile: certs.certFile, keyFile: certs.keyFile },
    });
    akm = await startAkm(nats, passwords, dir, { NATS_CA_FILE: certs.caFile });
  });
  after(async () => {
    await Promise.all([akm?.issuer.kill(), akm?.verifier.kill()]);
    await nats?.destroy();
    certs?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the issuer and the verifier talk over tls:// trusting the CA file: a revocation is refused', async () => {
    expect(nats!.url).to.match(/^tls:\/\//);
    const { id, key } = await akm!.mint();
    expect((await akm!.price(key)).status).to.equal(200);

    await akm!.revoke(id);
    await akm!.until(key, 401);
    expect((await akm!.price(key)).body.code).to.equal('key_revoked');
  });

  it('a client that does not trust the CA (another CA, or none) is refused', async () => {
    const attempt = (caFile?: string) =>
      connectNats({
        url: nats!.url, name: 'untrusting', user: 'akm-verifier', password: passwords.verifier, timeoutMs: 2000,
        ...(caFile ? { caFile } : {}),
      }).then(async (nc) => (await nc.close(), 'connected'), (err: Error) => `${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`);

    expect(await attempt(certs!.otherCaFile)).to.match(/certificate/i);
    expect(await attempt()).to.match(/certificate/i);
    expect(await attempt(certs!.caFile)).to.equal('connected');
  });
});

/** A `.creds` file for an NKey user: its seed, and a user JWT that a server without an operator does not read. */
function writeCreds(path: string, seed: Uint8Array): void {
  const jwt = `${Buffer.from('{"typ":"JWT","alg":"ed25519-nkey"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.unused`;
  writeFileSync(
    path,
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(seed)}\n------END USER NKEY SEED------\n`,
    { mode: 0o600 },
  );
}

describe('e2e: NATS_CREDS, a .creds file', function () {
  this.timeout(60_000);
  let nats: TestServer | undefined;
  let dir: string;
  let issuer: AkmProcess | undefined;
  let verifier: AkmProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-nats-creds-'));
    // The server knows each user by its NKey and checks the signature made with the creds' seed.
    // (Operator mode, where it would also check the user JWT, is not run here.)
    const users = { issuer: createUser(), verifier: createUser() };
    writeFileSync(
      join(dir, 'nats.conf'),
      `authorization { users: [ { nkey: "${users.issuer.getPublicKey()}" }, { nkey: "${users.verifier.getPublicKey()}" } ] }\n`,
    );
    writeCreds(join(dir, 'issuer.creds'), users.issuer.getSeed());
    writeCreds(join(dir, 'verifier.creds'), users.verifier.getSeed());
    writeCreds(join(dir, 'stranger.creds'), createUser().getSeed());
    nats = await startNats({ configFile: join(dir, 'nats.conf') });
    const logDir = join(dir, 'logs');
    issuer = await startIssuerProcess({
      logDir, name: 'issuer', dataDir: join(dir, 'data'), adminPassword: ADMIN_PASSWORD, natsUrl: nats.url,
      env: { NATS_CREDS: join(dir, 'issuer.creds') },
    });
    verifier = await startVerifierProcess({
      logDir, name: 'verifier', issuerUrl: issuer.url, natsUrl: nats.url, env: { NATS_CREDS: join(dir, 'verifier.creds') },
    });
  });
  after(async () => {
    await Promise.all([issuer?.kill(), verifier?.kill()]);
    await nats?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the issuer and the verifier sign in with their .creds files: a revocation is refused', async () => {
    await waitFor(async () => (await call(verifier!.url, '/readyz')).status === 200, 20_000, 50);
    const login = await call(issuer!.url, '/auth/login', { method: 'POST', body: { username: 'admin', password: ADMIN_PASSWORD } });
    const token = String(login.body.token);
    const minted = await call(issuer!.url, '/admin/keys', { method: 'POST', token, body: { sub: 'dave' } });
    expect(minted.status, shown(minted)).to.equal(201);
    const key = String(minted.body.key);
    expect((await call(verifier!.url, '/price?symbol=BTC', { token: key })).status).to.equal(200);

    await call(issuer!.url, `/admin/keys/${String(minted.body.id)}`, { method: 'DELETE', token });
    await waitFor(async () => (await call(verifier!.url, '/price?symbol=BTC', { token: key })).status === 401, 5000, 20);
  });

  it('a .creds file of a user the server does not know is refused', async () => {
    const answer = await connectNats({ url: nats!.url, name: 'stranger', credsFile: join(dir, 'stranger.creds'), timeoutMs: 2000 }).then(
      async (nc) => (await nc.close(), 'connected'),
      (err: Error) => err.message,
    );
    expect(answer).to.match(/authorization/i);
  });
});
