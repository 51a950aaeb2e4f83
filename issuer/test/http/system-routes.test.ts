import { expect } from 'chai';
import request from 'supertest';
import { metricTotal, replicaMetrics, startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';
import { testStoreKind } from '../support/test-store.js';

describe('issuer: health, readiness, metrics and unknown routes', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => {
    await issuer.destroy();
  });

  it('reports health, and readiness listing every dependency with its state and whether it is required', async () => {
    expect((await request(issuer.url).get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const ready = await request(issuer.url).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({
      status: 'ready',
      dependencies: {
        database: { kind: testStoreKind(), state: 'ok', required: true },
        eventBus: { state: 'in-process', required: false },
        poolStore: { kind: testStoreKind(), state: 'ok', required: false },
      },
      outboxBacklog: 0,
    });
  });

  it('serves Prometheus metrics that count issued keys and published events', async () => {
    await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'm' });
    await issuer.relay.flush(2000);
    const res = await request(issuer.url).get('/metrics');
    expect(res.status).to.equal(200);
    // Counters are per process: summed over the replicas, the key was issued and its event sent once.
    expect(await metricTotal(issuer, 'akm_issuer_keys_issued_total')).to.equal(1);
    expect(await metricTotal(issuer, 'akm_issuer_events_published_total')).to.equal(1);
    expect(res.text).to.match(/akm_issuer_outbox_backlog 0/);
    expect(await replicaMetrics(issuer)).to.match(/akm_issuer_http_request_duration_seconds_bucket\{.*route="\/admin\/keys"/);
  });

  it('answers an unknown route with 404 not_found as problem+json, with helmet headers', async () => {
    const res = await request(issuer.url).get('/nope');
    expect(res.status).to.equal(404);
    expect(res.body).to.include({ code: 'not_found', status: 404 });
    expect(res.body.requestId).to.equal(res.headers['x-request-id']);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['content-security-policy']).to.be.a('string');
  });

  it('answers /readyz 503 when the database cannot answer', async () => {
    // One process: only its own database connection is closed, and /readyz must reach that one.
    const broken = await startTestIssuer({ replicas: 1 });
    try {
      await broken.relay.stop();
      await broken.db.close();
      const res = await request(broken.url).get('/readyz');
      expect(res.status, JSON.stringify(res.body)).to.equal(503);
      expect(res.body.status).to.equal('not_ready');
      expect(res.body.dependencies.database).to.deep.equal({ kind: testStoreKind(), state: 'unavailable', required: true });
      expect(res.body.dependencies.poolStore, 'the pool is in the database').to.include({ kind: testStoreKind(), state: 'unavailable' });
    } finally {
      await broken.destroy().catch(() => undefined);
    }
  });
});
