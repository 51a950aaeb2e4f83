import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { createLogger, createMemoryKeyBus } from '@akm/common';
import { startVerifierService, type RunningVerifier } from '../../src/service/start-service.js';
import { createStaticKeySource } from '../../src/store/key-source.js';
import { keyEvent } from '../support/key-events.js';
import { createSigner, signKey, type SignedKey, type TestSigner } from '../support/signing.js';
import { shown } from '../support/verifier-fixture.js';

describe('verifier service: routes', () => {
  let signer: TestSigner;
  let svc: RunningVerifier;
  let key: SignedKey;
  let lines: string[];

  beforeEach(async () => {
    signer = await createSigner();
    lines = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const bus = createMemoryKeyBus();
    key = await signKey(signer, { sub: 'bob' });
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));
    svc = await startVerifierService({
      keys: createStaticKeySource(signer.jwks),
      feed: bus.createFeed(),
      logger: createLogger({ name: 'verifier-test', level: 'info', destination }),
    });
    await svc.ready;
  });
  afterEach(async () => svc.stop());

  const get = (path: string) => request(svc.url).get(path).set('Authorization', `Bearer ${key.token}`);

  it('GET /price answers a known symbol in any case', async () => {
    const res = await get('/price?symbol=eth');
    expect(res.status, shown(res)).to.equal(200);
    expect(res.body).to.deep.include({ symbol: 'ETH', name: 'Ether' });
  });

  it('GET /price with an unknown symbol answers 404 not_found', async () => {
    const res = await get('/price?symbol=NOPE');
    expect(res.status, shown(res)).to.equal(404);
    expect(res.body.code, shown(res)).to.equal('not_found');
  });

  it('GET /price with a missing, malformed or repeated symbol answers 400 validation_failed', async () => {
    for (const path of ['/price', '/price?symbol=B%24C', '/price?symbol=BTC&symbol=ETH', `/price?symbol=${'A'.repeat(11)}`]) {
      const res = await get(path);
      expect(res.status, `${path}: ${shown(res)}`).to.equal(400);
      expect(res.body.code, `${path}: ${shown(res)}`).to.equal('validation_failed');
    }
  });

  it('answers /healthz and /readyz once replayed, and exposes metrics counting outcomes', async () => {
    await get('/price?symbol=BTC');
    await request(svc.url).get('/price?symbol=BTC');

    const health = await request(svc.url).get('/healthz');
    const ready = await request(svc.url).get('/readyz');
    const metrics = await request(svc.url).get('/metrics');

    expect(health.status, shown(health)).to.equal(200);
    expect(ready.status, shown(ready)).to.equal(200);
    expect(ready.body).to.include({ status: 'ready', replayed: true, stalenessSeconds: 0 });
    expect(metrics.text).to.match(/^akm_verifier_requests_total\{outcome="ok"\} 1$/m);
    expect(metrics.text).to.match(/^akm_verifier_requests_total\{outcome="missing_credentials"\} 1$/m);
    expect(metrics.text).to.match(/^akm_verifier_key_state_entries 1$/m);
    expect(metrics.text).to.match(/^akm_verifier_decision_seconds_count\{outcome="ok"\} 1$/m);
  });

  it('logs each request in one line with key id, owner, outcome, latency and request id, never the key string', async () => {
    await get('/price?symbol=BTC').set('X-Request-Id', 'req-123');
    await request(svc.url).get('/price?symbol=BTC').set('Authorization', 'Bearer nonsense').set('X-Request-Id', 'req-456');

    const parsed = lines.map((l) => JSON.parse(l));
    const served = parsed.filter((l) => l.requestId === 'req-123');
    expect(served, JSON.stringify(served)).to.have.length(1);
    expect(served[0]).to.include({ msg: 'request completed', keyId: key.keyId, sub: 'bob', outcome: 'ok' });
    expect(served[0].res).to.deep.equal({ statusCode: 200 });
    expect(served[0].latencyMs).to.be.a('number');
    const refused = parsed.filter((l) => l.requestId === 'req-456');
    expect(refused, JSON.stringify(refused)).to.have.length(1);
    expect(refused[0]).to.include({ msg: 'request completed', outcome: 'invalid' });
    expect(lines.join('\n')).not.to.include(key.token.split('.')[2]);
  });

  it('while the key stream is not replayed, /readyz answers 503 and each such request is one warn line, without a stack', async () => {
    const waiting = await startVerifierService({
      keys: createStaticKeySource(signer.jwks),
      // A feed that never finishes its replay (NATS not reachable yet).
      feed: { start: () => new Promise<void>(() => {}), status: () => ({ replayed: false, connected: false, lastContactAt: 0 }), stop: async () => {} },
      logger: createLogger({ name: 'verifier-test', level: 'info', destination: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }) }),
    });
    try {
      const res = await request(waiting.url).get('/readyz').set('X-Request-Id', 'req-waiting');
      expect(res.status).to.equal(503);
      const line = lines.map((l) => JSON.parse(l)).filter((l) => l.requestId === 'req-waiting');
      expect(line, JSON.stringify(line)).to.have.length(1);
      expect(line[0]).to.include({ msg: 'request failed', level: 40 });
      expect(line[0]).not.to.have.property('err');
    } finally {
      await waiting.stop();
    }
  });

  it('answers a wrong method on a known route with 405 method_not_allowed and Allow, before checking the key', async () => {
    for (const [method, path] of [['post', '/price?symbol=BTC'], ['delete', '/key/info'], ['put', '/readyz']] as const) {
      const res = await request(svc.url)[method](path);
      expect(res.status, shown(res)).to.equal(405);
      expect(res.body.code, shown(res)).to.equal('method_not_allowed');
      expect(res.headers.allow, shown(res)).to.equal('GET, HEAD');
    }
  });

  it('answers an unknown route with 404 not_found', async () => {
    const res = await request(svc.url).get('/nope');
    expect(res.status, shown(res)).to.equal(404);
    expect(res.body.code, shown(res)).to.equal('not_found');
  });
});
