/**
 * Case 9: helmet's security headers on every answer of both services, whatever its status; and
 * no key string, sign-in token, password or private key in any log line that any process of the
 * fault suite wrote (this case runs last and scans them all).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { call, shown, signInAdmin, type Answer } from './support/akm-client.js';
import { createLogScanner } from './support/log-scan.js';
import { ADMIN_PASSWORD, LOG_DIR, rememberSecret, reportFigure, RUN_DIR, secretsSoFar } from './support/run.js';
import { securityHeaderProblems } from './support/security-headers.js';

describe('case 9: security headers on every answer, and no secret in any log line', function () {
  this.timeout(180_000);
  let nats: TestServer;
  let issuer: AkmProcess;
  let verifier: AkmProcess;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case9-'));

  before(async () => {
    nats = await startNats();
    issuer = await startIssuerProcess({
      logDir: LOG_DIR, name: 'case9-issuer-debug', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url, env: { LOG_LEVEL: 'debug' },
    });
    verifier = await startVerifierProcess({ logDir: LOG_DIR, name: 'case9-verifier-debug', issuerUrl: issuer.url, natsUrl: nats.url, env: { LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await Promise.all([issuer, verifier].map((p) => p?.kill()));
    await nats?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every answer of both services, 2xx to 4xx, carries helmet\'s headers and no X-Powered-By', async () => {
    // Asked while the verifier may still be replaying: a 503 is checked too when it comes.
    const answers: [string, Answer][] = [];
    const ask = async (label: string, url: string, path: string, init: Parameters<typeof call>[2] = {}) => {
      answers.push([label, await call(url, path, init)]);
    };
    await ask('verifier 503 or 401 while starting', verifier.url, '/price?symbol=BTC', { token: 'x.y.z' });
    const admin = await signInAdmin(issuer.url);
    const key = await admin.mint({ rateLimit: 1 });
    const roomy = await admin.mint({ rateLimit: 1000 });
    await waitFor(async () => (await call(verifier.url, '/readyz')).status === 200, 20_000, 50);
    const I = issuer.url;
    const V = verifier.url;
    await ask('issuer 200 healthz', I, '/healthz');
    await ask('issuer 200 readyz', I, '/readyz');
    await ask('issuer 200 metrics', I, '/metrics');
    await ask('issuer 200 jwks', I, '/.well-known/jwks.json');
    await ask('issuer 201 create', I, '/admin/keys', { method: 'POST', token: admin.token, body: { sub: 'h' } });
    await ask('issuer 400 validation', I, '/admin/keys', { method: 'POST', token: admin.token, body: { rateLimit: -1 } });
    await ask('issuer 401 missing', I, '/admin/keys');
    await ask('issuer 401 bad login', I, '/auth/login', { method: 'POST', body: { username: 'admin', password: 'wrong password here' } });
    await ask('issuer 403 api key on admin', I, '/admin/keys', { token: key.key });
    await ask('issuer 404', I, '/nope');
    await ask('issuer 204 revoke', I, `/admin/keys/${(await admin.mint()).id}`, { method: 'DELETE', token: admin.token });
    await ask('issuer 413', I, '/admin/keys', { method: 'POST', token: admin.token, body: { sub: 'x', name: 'y'.repeat(70_000) } });
    await ask('verifier 200 price', V, '/price?symbol=BTC', { token: key.key });
    await ask('verifier 429 over the limit', V, '/price?symbol=BTC', { token: key.key });
    await ask('verifier 200 key info', V, '/key/info', { token: key.key });
    await ask('verifier 401 missing', V, '/price?symbol=BTC');
    await ask('verifier 400 malformed', V, '/price?symbol=BTC', { headers: { authorization: 'Basic abc' } });
    await ask('verifier 401 invalid', V, '/price?symbol=BTC', { token: 'a.b.c' });
    await ask('verifier 403 user key on admin route', V, '/admin/verifier', { token: roomy.key });
    await ask('verifier 404', V, '/nope');
    await ask('verifier 200 healthz, readyz, metrics', V, '/metrics');

    const statuses = new Set(answers.map(([, a]) => a.status));
    for (const s of [200, 201, 204, 400, 401, 403, 404, 413, 429]) expect(statuses.has(s), `an answer with status ${s}: ${[...statuses]}`).to.equal(true);
    const problems = answers
      .map(([label, a]) => [label, a.status, securityHeaderProblems(a.headers)] as const)
      .filter(([, , p]) => p.length > 0);
    expect(problems, 'answers missing security headers').to.deep.equal([]);
    reportFigure({ case: 9, name: 'answers checked for helmet headers (statuses)', value: `${answers.length} (${[...statuses].sort().join(', ')})` });
  });

  it('no log line of any fault-suite process holds a key, sign-in token, password or private key', async () => {
    // Exercise what could leak at debug level: sign-ins right and wrong, a new user, a rotation.
    const admin = await signInAdmin(issuer.url);
    const userPassword = `user-password-${Math.random().toString(36).slice(2)}`;
    rememberSecret(userPassword, 'user password');
    const created = await call(issuer.url, '/admin/users', { method: 'POST', token: admin.token, body: { username: 'logscan', password: userPassword, role: 'user' } });
    expect(created.status, shown(created)).to.equal(201);
    const login = await call(issuer.url, '/auth/login', { method: 'POST', body: { username: 'logscan', password: userPassword } });
    expect(login.status, shown(login)).to.equal(200);
    rememberSecret(String(login.body.token), 'user sign-in token');
    await call(issuer.url, '/auth/login', { method: 'POST', body: { username: 'logscan', password: `${userPassword}-wrong` } });
    rememberSecret(`${userPassword}-wrong`, 'wrong password');
    const rotated = await call(issuer.url, '/admin/signing-keys/rotate', { method: 'POST', token: admin.token });
    expect(rotated.status, shown(rotated)).to.equal(201);
    const key = await admin.mint();
    await call(verifier.url, '/price?symbol=BTC', { token: key.key });
    await call(verifier.url, '/key/info', { token: key.key });
    await call(verifier.url, `/price?symbol=BTC&key=${key.key}`); // a careless client puts the key in the query
    for (const file of readdirSync(join(dataDir, 'signing'))) {
      const jwk = JSON.parse(readFileSync(join(dataDir, 'signing', file), 'utf8')) as { d?: string };
      if (jwk.d) rememberSecret(jwk.d, 'signing private key');
    }
    await issuer.stop();
    await verifier.stop();

    const scanner = createLogScanner(secretsSoFar());
    // The scanner must be able to fail: it finds each kind of secret planted in a line.
    expect(scanner.inspectLine(`{"msg":"x","auth":"Bearer ${key.key}"}`)).to.equal('a signed JWT');
    expect(scanner.inspectLine(`{"msg":"x","sig":"${key.key.split('.')[2]}"}`)).to.equal('API key');
    expect(scanner.inspectLine(`{"msg":"x","pw":"${userPassword}"}`)).to.equal('user password');
    expect(scanner.inspectLine('{"msg":"-----BEGIN PRIVATE KEY-----"}')).to.equal('a PEM private key');

    const { leaks, lines } = await scanner.scanDir(LOG_DIR);
    const files = Object.keys(lines);
    const total = Object.values(lines).reduce((a, b) => a + b, 0);
    expect(files.some((f) => f.includes('issuer')) && files.some((f) => f.includes('verifier')), `log files: ${files.join(', ')}`).to.equal(true);
    expect(lines['case9-issuer-debug.log'], 'debug lines of this case\'s issuer').to.be.above(10);
    expect(leaks, 'log lines holding a secret').to.deep.equal([]);

    reportFigure({ case: 9, name: 'log lines scanned / files / secrets looked for', value: `${total} / ${files.length} / ${secretsSoFar().size}` });
  });
});
