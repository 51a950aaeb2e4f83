import { expect } from 'chai';
import { jetstreamManager } from '@nats-io/jetstream';
import request from 'supertest';
import { connectNats, KEY_STREAM, keySubject, parseKeyEvent, type NatsConnection } from '@akm/common';
import { startNats, waitFor, type TestServer } from '../../../test/support/processes.js';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

describe('issuer: outbox to JetStream (real nats-server)', function () {
  this.timeout(60_000);
  let nats: TestServer;
  let nc: NatsConnection | undefined;
  let issuer: TestIssuer | undefined;
  beforeEach(async () => {
    // Owned: the issuer always writes the AKM_KEYS stream, and these tests count its messages and stop the server.
    nats = await startNats({ owned: true });
  });
  afterEach(async () => {
    await issuer?.destroy();
    issuer = undefined;
    await nc?.close().catch(() => undefined);
    nc = undefined;
    await nats.destroy();
  });

  const streamState = async () => {
    nc ??= await connectNats({ url: nats.url, name: 'test' });
    return (await (await jetstreamManager(nc)).streams.info(KEY_STREAM)).state;
  };
  const latestOf = async (keyId: string) => {
    nc ??= await connectNats({ url: nats.url, name: 'test' });
    const jsm = await jetstreamManager(nc);
    const msg = await jsm.streams.getMessage(KEY_STREAM, { last_by_subj: keySubject(keyId) });
    return { event: parseKeyEvent(msg!.data), msgId: msg!.header?.get('Nats-Msg-Id') };
  };
  const issue = (i: TestIssuer, body: object, requestId?: string) => {
    const req = request(i.url).post('/admin/keys').set('Authorization', `Bearer ${i.admin}`);
    return (requestId ? req.set('X-Request-Id', requestId) : req).send(body);
  };

  it('publishes each change to akm.keys.<id> with the event id as Nats-Msg-Id and the request id inside', async () => {
    issuer = await startTestIssuer({ natsUrl: nats.url });
    const res = await issue(issuer, { sub: 'alice', rateLimit: 9, ttl: 600 }, 'req-abc');
    expect(res.status).to.equal(201);
    await waitFor(async () => (await streamState()).messages === 1);
    const { event, msgId } = await latestOf(res.body.id);
    expect(event.ok).to.equal(true);
    if (!event.ok) return;
    expect(event.event).to.include({ type: 'key.created', keyId: res.body.id, sub: 'alice', rateLimit: 9, status: 'active', requestId: 'req-abc', version: 1 });
    expect(msgId).to.equal(event.event.id);

    await request(issuer.url).delete(`/admin/keys/${res.body.id}`).set('Authorization', `Bearer ${issuer.admin}`);
    await waitFor(async () => (await streamState()).last_seq === 2);
    const latest = await latestOf(res.body.id);
    expect(latest.event.ok && latest.event.event.type).to.equal('key.revoked');
    expect(latest.event.ok && latest.event.event.version).to.equal(2);
    expect((await streamState()).messages, 'only the latest message per key is kept').to.equal(1);
  });

  it('creates AKM_KEYS keeping the latest event per key, for the longest key lifetime plus a day, with a two-minute duplicate window', async () => {
    const DAY = 86_400;
    const SECOND_NS = 1_000_000_000;
    issuer = await startTestIssuer({ natsUrl: nats.url, maxKeyTtlSeconds: 7200, defaultKeyTtlSeconds: 3600 });
    const res = await issue(issuer, { sub: 'retention', ttl: 7200 });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    await waitFor(async () => (await streamState()).messages === 1);
    const config = async () => (await (await jetstreamManager(nc!)).streams.info(KEY_STREAM)).config;
    const first = await config();
    expect(first.subjects).to.deep.equal(['akm.keys.*']);
    expect(first.max_msgs_per_subject, 'only the latest state of a key is kept').to.equal(1);
    expect(first.max_age, 'a key event outlives the longest key (AKM_MAX_KEY_TTL_S)').to.be.at.least(7200 * SECOND_NS);
    expect(first.max_age, 'the README: this long plus a day').to.equal((7200 + DAY) * SECOND_NS);
    expect(first.duplicate_window, 'a re-sent outbox row is dropped for two minutes').to.equal(120 * SECOND_NS);
    expect(first.retention).to.equal('limits');
    expect(first.storage).to.equal('file');
    expect(first.discard).to.equal('old');

    // A restart with a longer AKM_MAX_KEY_TTL_S must lengthen the retention of the existing stream.
    const dataDir = issuer.dataDir;
    await issuer.stop();
    const longer = await startTestIssuer({ natsUrl: nats.url, dataDir, maxKeyTtlSeconds: 30 * DAY });
    try {
      await waitFor(async () => (await config()).max_age === 31 * DAY * SECOND_NS, 10_000, 50);
      expect((await config()).max_msgs_per_subject).to.equal(1);
    } finally {
      await longer.stop();
    }
  });

  it('with NATS stopped during the writes, the API keeps working and every event is stored exactly once, in order, after NATS is back', async () => {
    issuer = await startTestIssuer({ natsUrl: nats.url });
    await issue(issuer, { sub: 'warmup', ttl: 600 });
    await waitFor(async () => (await streamState()).last_seq === 1);
    await nats.stop();

    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await issue(issuer, { sub: `u${i}`, ttl: 600 });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      ids.push(res.body.id);
    }
    for (const id of ids.slice(0, 10)) {
      const del = await request(issuer.url).delete(`/admin/keys/${id}`).set('Authorization', `Bearer ${issuer.admin}`);
      expect(del.status).to.equal(204);
    }
    const ready = await request(issuer.url).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body.dependencies.eventBus).to.deep.equal({ state: 'disconnected', required: false });
    expect(ready.body.status, 'degraded, still serving').to.equal('degraded');
    expect(ready.body.outboxBacklog).to.equal(30);

    await nats.start();
    await waitFor(async () => (await request(issuer!.url).get('/readyz')).body.outboxBacklog === 0, 20_000, 50);
    // The outbox drains within a reconnect of the issuer's client: the test's own connection
    // may still be reconnecting, and a request sent meanwhile times out. Read with a new one.
    await nc?.close();
    nc = undefined;
    const state = await streamState();
    expect(state.last_seq, 'every event stored once: 1 + 20 created + 10 revoked').to.equal(31);
    expect(state.messages).to.equal(21);
    for (const [i, id] of ids.entries()) {
      const { event } = await latestOf(id);
      expect(event.ok && event.event.type).to.equal(i < 10 ? 'key.revoked' : 'key.created');
    }
  });

  it('starts while NATS is down, and an issuer restart loses no event that was committed', async () => {
    await nats.stop();
    issuer = await startTestIssuer({ natsUrl: nats.url });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await issue(issuer, { sub: `r${i}`, ttl: 600 })).body.id);
    const dataDir = issuer.dataDir;
    await issuer.stop();

    await nats.start();
    const restarted = await startTestIssuer({ natsUrl: nats.url, dataDir });
    try {
      await waitFor(async () => (await request(restarted.url).get('/readyz')).body.outboxBacklog === 0, 20_000, 50);
      const state = await streamState();
      expect(state.last_seq).to.equal(5);
      for (const id of ids) expect((await latestOf(id)).event.ok).to.equal(true);
    } finally {
      await restarted.stop();
    }
  });
});
