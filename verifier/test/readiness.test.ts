import { expect } from 'chai';
import { connectNats, type KeyEventFeed, type NatsConnection } from '@akm/common';
import { waitFor } from '../../test/support/processes.js';
import { createJetStreamKeyFeed } from '../src/consumers/jetstream-key-feed.js';
import { keyEvent } from './support/key-events.js';
import { signKey, type SignedKey } from './support/signing.js';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

/** A feed whose start waits until the test opens the gate. */
function gated(inner: KeyEventFeed): { feed: KeyEventFeed; open(): void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    feed: { ...inner, start: async (h) => gate.then(() => inner.start(h)) },
    open,
  };
}

describe('verifier: readiness and staleness', () => {
  const t = useTestVerifier({ events: 'nats', instances: 0 });
  let nc: NatsConnection;
  beforeEach(async () => {
    nc = await connectNats({ url: t.nats.url, name: 'readiness-test' });
  });
  afterEach(async () => nc.close());

  it('before the key stream is replayed, answers 503 unavailable on protected routes and /readyz', async () => {
    const key = await signKey(t.signer);
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    const { feed, open } = gated(createJetStreamKeyFeed({ nc, stream: t.stream.stream, subjects: t.stream.subjects }));
    const verifier = await t.start({ feed, waitReady: false });

    const early = await verifier.get('/price?symbol=BTC', key.token);
    const readyz = await verifier.get('/readyz');

    expect(early.status, shown(early)).to.equal(503);
    expect(early.body.code, shown(early)).to.equal('unavailable');
    expect(readyz.status, shown(readyz)).to.equal(503);
    expect(readyz.body.code, shown(readyz)).to.equal('unavailable');
    open();
    await verifier.svc.ready;
    const later = await verifier.get('/price?symbol=BTC', key.token);
    expect(later.status, shown(later)).to.equal(200);
    expect((await verifier.get('/readyz')).status).to.equal(200);
  });

  it('when started after 1,000 revocations, refuses every one of them from its first request', async function () {
    this.timeout(60_000);
    const keys: SignedKey[] = [];
    for (let i = 0; i < 1000; i++) keys.push(await signKey(t.signer));
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k) => t.stream.publish(keyEvent(k, 'key.revoked', { version: 2 }))));
    }

    const verifier = await t.start({ waitReady: false });
    const first = await verifier.get('/price?symbol=BTC', keys[999]!.token);
    await verifier.svc.ready;

    expect(first.status, shown(first)).to.be.oneOf([401, 503]);
    expect(first.body.code, shown(first)).to.be.oneOf(['key_revoked', 'unavailable']);
    const codes = new Map<string, number>();
    for (const key of keys) {
      const res = await verifier.get('/price?symbol=BTC', key.token);
      const label = `${res.status} ${res.body.code}`;
      codes.set(label, (codes.get(label) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).to.deep.equal({ '401 key_revoked': 1000 });
  });
});

describe('verifier: fails closed past the staleness bound', () => {
  let clock: number;
  beforeEach(() => {
    clock = Date.now();
  });
  // Its own nats-server for each test: the test kills it.
  const t = useTestVerifier({ events: 'nats', servers: 'each', now: () => clock, maxStalenessSeconds: 300 });

  it('when NATS is lost, keeps serving within the bound, then answers 503 unavailable past it, and recovers', async function () {
    this.timeout(30_000);
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    await waitFor(async () => (await t.verifier.get('/key/info', key.token)).body.id === key.keyId, 3000);

    await t.nats.kill();
    await waitFor(() => !t.verifier.svc.verifier.readiness().connected, 5000);
    clock += 299_000;
    const within = await t.verifier.get('/price?symbol=BTC', key.token);
    expect(within.status, shown(within)).to.equal(200);
    expect(await t.verifier.metricsText()).to.match(/^akm_verifier_stream_staleness_seconds 299$/m);

    clock += 2_000;
    const past = await t.verifier.get('/price?symbol=BTC', key.token);
    const readyz = await t.verifier.get('/readyz');
    expect(past.status, shown(past)).to.equal(503);
    expect(past.body.code, shown(past)).to.equal('unavailable');
    expect(readyz.status, shown(readyz)).to.equal(503);

    await t.nats.start();
    await waitFor(() => t.verifier.svc.verifier.readiness().ready, 10_000);
    const back = await t.verifier.get('/price?symbol=BTC', key.token);
    expect(back.status, shown(back)).to.equal(200);
  });
});
