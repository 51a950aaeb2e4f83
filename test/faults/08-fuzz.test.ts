/**
 * Case 8: bad input. At least 10,000 random and mutated requests to every endpoint of the issuer
 * and of the verifier: no 5xx, no crash, every answer a documented code (problem+json whose
 * `code` matches its status), helmet's headers on each. Oversized bodies get 413, oversized
 * header blocks 431.
 */
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, startRedis, waitFor, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';
import { call, shown, signInAdmin } from './support/akm-client.js';
import { fuzz, isParserAnswer, send, type FuzzAnswer, type FuzzEndpoint } from './support/fuzz.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';
import { securityHeaderProblems } from './support/security-headers.js';

const REQUESTS = 11_500;
const SEED = Number(process.env.AKM_FUZZ_SEED ?? Date.now() % 2 ** 31);

const ISSUER_ENDPOINTS: FuzzEndpoint[] = [
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/.well-known/jwks.json' },
  { method: 'POST', path: '/admin/signing-keys/rotate' },
  { method: 'POST', path: '/auth/login', body: { username: 'admin', password: 'not the password at all' } },
  { method: 'GET', path: '/admin/keys' },
  { method: 'POST', path: '/admin/keys', body: { sub: 'fuzz', role: 'user', rateLimit: 100, ttl: 3600, name: 'n', meta: { a: 'b' } } },
  { method: 'GET', path: '/admin/keys/:id' },
  { method: 'PATCH', path: '/admin/keys/:id', body: { rateLimit: 5, status: 'disabled', expiresAt: '2030-01-01T00:00:00Z' } },
  { method: 'DELETE', path: '/admin/keys/:id' },
  { method: 'POST', path: '/key/disable' },
  { method: 'GET', path: '/admin/users' },
  { method: 'POST', path: '/admin/users', body: { username: 'fuzzuser', password: 'a fuzzed password 123', role: 'user' } },
  { method: 'GET', path: '/admin/users/:name' },
  { method: 'PATCH', path: '/admin/users/:name', body: { role: 'user', status: 'active' } },
  { method: 'DELETE', path: '/admin/users/:name' },
  { method: 'GET', path: '/me' },
  { method: 'GET', path: '/me/keys' },
  { method: 'POST', path: '/me/keys/:id/disable' },
  { method: 'POST', path: '/me/password', body: { currentPassword: 'not the password at all', newPassword: 'a fuzzed password 123' } },
  { method: 'POST', path: '/auth/logout', body: { everywhere: false } },
  { method: 'POST', path: '/pool/tokens', body: { count: 2 } },
  { method: 'POST', path: '/pool/assign' },
  { method: 'POST', path: '/pool/tokens/:token/unblock' },
  { method: 'POST', path: '/pool/tokens/:token/keep-alive' },
  { method: 'GET', path: '/pool/tokens/:token' },
  { method: 'DELETE', path: '/pool/tokens/:token' },
  { method: 'GET', path: '/pool/stats' },
];

const VERIFIER_ENDPOINTS: FuzzEndpoint[] = [
  { method: 'GET', path: '/price' },
  { method: 'GET', path: '/price?symbol=BTC' },
  { method: 'GET', path: '/key/info' },
  { method: 'GET', path: '/admin/verifier' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
  { method: 'GET', path: '/metrics' },
];

describe('case 8: bad input to every endpoint', function () {
  this.timeout(300_000);
  let nats: TestServer;
  let redis: TestServer;
  let issuer: AkmProcess;
  let verifier: AkmProcess;
  let valid: string[];
  const dataDir = mkdtempSync(join(RUN_DIR, 'case8-'));

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case8-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    verifier = await startVerifierProcess({ logDir: LOG_DIR, name: 'case8-verifier', issuerUrl: issuer.url, natsUrl: nats.url, redisUrl: redis.url });
    const admin = await signInAdmin(issuer.url);
    const userKey = await admin.mint({ rateLimit: 1_000_000 });
    // An admin key needs an owner who is an active admin user.
    const owner = await call(issuer.url, '/admin/users', { method: 'POST', token: admin.token, body: { username: 'fuzz-admin', password: ADMIN_PASSWORD, role: 'admin' } });
    expect(owner.status, shown(owner)).to.equal(201);
    const adminKey = await call(issuer.url, '/admin/keys', { method: 'POST', token: admin.token, body: { sub: 'fuzz-admin', role: 'admin', rateLimit: 1_000_000 } });
    expect(adminKey.status, shown(adminKey)).to.equal(201);
    valid = [userKey.key, String(adminKey.body.key), admin.token];
    await waitFor(async () => (await call(verifier.url, '/readyz')).status === 200, 20_000, 50);
  });
  after(() =>
    stopEach(
      () => Promise.all([issuer, verifier].map((p) => p?.kill())),
      () => nats?.destroy(),
      () => redis?.destroy(),
      () => rmSync(dataDir, { recursive: true, force: true }),
    ),
  );

  for (const [name, endpoints, target] of [
    ['issuer', ISSUER_ENDPOINTS, () => issuer],
    ['verifier', VERIFIER_ENDPOINTS, () => verifier],
  ] as const) {
    it(`the ${name} answers ${REQUESTS.toLocaleString('en')} fuzzed requests with documented codes only, and keeps running`, async () => {
      const proc = target();
      const missingHeaders: FuzzAnswer[] = [];
      let parserAnswers = 0;
      const t0 = Date.now();
      const result = await fuzz({
        base: proc.url,
        endpoints: [...endpoints],
        creds: { valid },
        requests: REQUESTS,
        seed: SEED,
        onAnswer: (a) => {
          if (isParserAnswer(a)) parserAnswers++;
          else if (securityHeaderProblems(a.headers).length > 0) missingHeaders.push(a);
        },
      });
      const seconds = (Date.now() - t0) / 1000;
      const answered = Object.entries(result.statuses).filter(([s]) => s !== '-1').reduce((n, [, c]) => n + c, 0);
      const describe = (a: FuzzAnswer) => `${a.method} ${a.path.slice(0, 120)} → ${a.status} ${a.body.slice(0, 200)}`;

      expect(result.bad.slice(0, 10).map((b) => `${b.why}: ${describe(b.answer)}`), `seed ${SEED}`).to.deep.equal([]);
      expect(answered, `answered requests (seed ${SEED}): ${JSON.stringify(result.statuses)}`).to.be.at.least(10_000);
      expect(missingHeaders.slice(0, 5).map((a) => `${describe(a)} lacks ${securityHeaderProblems(a.headers).join(', ')}`)).to.deep.equal([]);
      expect(proc.running(), `${name} still running`).to.equal(true);
      const health = await call(proc.url, '/healthz');
      expect(health.status, shown(health)).to.equal(200);

      reportFigure({ case: 8, name: `${name}: answered / seconds / answers by status (seed ${SEED})`, value: `${answered} / ${seconds.toFixed(1)} s / ${JSON.stringify(result.statuses)}` });
      reportFigure({ case: 8, name: `${name}: connections the server closed before answering (the process kept running)`, value: result.unreachable });
      reportFigure({ case: 8, name: `${name}: answered by Node's HTTP parser before akm (not valid HTTP; bare 400/431)`, value: parserAnswers });
    });
  }

  it('an oversized body gets 413 payload_too_large and an oversized header block 431, from both services', async () => {
    const agent = new Agent({ keepAlive: false });
    const big = JSON.stringify({ sub: 'x', name: 'y'.repeat(100 * 1024) });
    const body413 = await send(issuer.url, agent, 'POST', '/admin/keys', { 'content-type': 'application/json', authorization: `Bearer ${valid[2]}` }, big);
    expect(body413?.status, body413?.body).to.equal(413);
    expect(JSON.parse(body413!.body).code, body413?.body).to.equal('payload_too_large');
    const statuses: string[] = [`issuer body: ${body413?.status}`];
    for (const [name, url] of [['issuer', issuer.url], ['verifier', verifier.url]] as const) {
      const res = await send(url, agent, 'GET', '/price?symbol=BTC', { authorization: `Bearer ${valid[0]}`, 'x-padding': 'p'.repeat(20 * 1024) });
      expect(res?.status, `${name}: ${res?.body}`).to.equal(431);
      statuses.push(`${name} 20 KiB header: ${res?.status}`);
      const bodyRes = await send(url, agent, 'POST', '/price?symbol=BTC', { 'content-type': 'application/json', authorization: `Bearer ${valid[0]}` }, big);
      expect(bodyRes?.status, `${name}: ${bodyRes?.body}`).to.be.oneOf([404, 405, 413]);
      statuses.push(`${name} 100 KiB body to a route without a body: ${bodyRes?.status}`);
    }
    for (const proc of [issuer, verifier]) expect(proc.running(), proc.name).to.equal(true);
    reportFigure({ case: 8, name: 'oversized input', value: statuses.join('; ') });
  });
});
