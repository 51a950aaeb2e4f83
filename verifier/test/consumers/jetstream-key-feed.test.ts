import { expect } from 'chai';
import { connectNats, ensureKeyStream, type KeyEvent, type KeyEventRejection, type NatsConnection } from '@akm/common';
import { startNats, waitFor, type TestServer } from '../../../test/support/processes.js';
import { createJetStreamKeyFeed } from '../../src/consumers/jetstream-key-feed.js';
import { createTestStream, keyEvent, type TestStream } from '../support/key-events.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';

describe('JetStream key feed', () => {
  let nats: TestServer;
  let signer: TestSigner;
  let stream: TestStream;
  let nc: NatsConnection;

  before(async () => {
    nats = await startNats();
    signer = await createSigner();
  });
  after(async () => nats.destroy());
  beforeEach(async () => {
    stream = await createTestStream(nats.url);
    nc = await connectNats({ url: nats.url, name: 'feed-test' });
  });
  afterEach(async () => {
    await stream.close();
    await nc.close();
  });

  const feedOf = (extra: Partial<Parameters<typeof createJetStreamKeyFeed>[0]> = {}) =>
    createJetStreamKeyFeed({ nc, stream: stream.stream, subjects: stream.subjects, ...extra });

  it('when started on a stream with several events per key, replays only the latest of each before resolving', async () => {
    const a = await signKey(signer);
    const b = await signKey(signer);
    await stream.publish(keyEvent(a, 'key.created', { version: 1 }));
    await stream.publish(keyEvent(b, 'key.created', { version: 1 }));
    await stream.publish(keyEvent(a, 'key.revoked', { version: 2 }));
    const seen: KeyEvent[] = [];
    const feed = feedOf();

    await feed.start((e) => seen.push(e));

    expect(seen.map((e) => `${e.keyId}:${e.version}`)).to.have.members([`${a.keyId}:2`, `${b.keyId}:1`]);
    expect(feed.status().replayed).to.equal(true);
    await feed.stop();
  });

  it('when the stream is empty, reports replayed at once and then delivers live events', async () => {
    const seen: KeyEvent[] = [];
    const feed = feedOf();
    await feed.start((e) => seen.push(e));
    const key = await signKey(signer);

    await stream.publish(keyEvent(key, 'key.created', { version: 1 }));

    await waitFor(() => seen.length === 1, 3000);
    expect(seen[0]?.keyId).to.equal(key.keyId);
    await feed.stop();
  });

  it('when a message is not a key event, skips it, reports it, and delivers the next one', async () => {
    const key = await signKey(signer);
    const bad: KeyEventRejection[] = [];
    const seen: KeyEvent[] = [];
    const feed = feedOf();
    await feed.start((e) => seen.push(e), (r) => bad.push(r));

    await stream.publishRaw('junk', '{not json');
    await stream.publish(keyEvent(key, 'key.created', { version: 1 }));

    await waitFor(() => seen.length === 1, 3000);
    expect(bad.map((r) => r.reason)).to.deep.equal(['unparseable']);
    await feed.stop();
  });

  it("when an event arrives on another key's subject, drops it and reports it, live and on replay", async () => {
    const victim = await signKey(signer);
    const marker = await signKey(signer);
    const forged = keyEvent(victim, 'key.enabled', { version: 99 });
    await stream.publishRaw('anything', JSON.stringify(forged));
    const bad: KeyEventRejection[] = [];
    const seen: KeyEvent[] = [];
    const feed = feedOf();

    await feed.start((e) => seen.push(e), (r) => bad.push(r));
    await stream.publishRaw(marker.keyId, JSON.stringify(forged));
    await stream.publish(keyEvent(marker, 'key.created', { version: 1 }));
    await waitFor(() => seen.length === 1, 3000);

    expect(seen.map((e) => e.keyId)).to.deep.equal([marker.keyId]);
    expect(bad.map((r) => [r.reason, r.keyId, r.subject])).to.deep.equal([
      ['wrong_subject', victim.keyId, `${stream.subjects.slice(0, -1)}anything`],
      ['wrong_subject', victim.keyId, `${stream.subjects.slice(0, -1)}${marker.keyId}`],
    ]);
    await feed.stop();
  });

  it('when the stream does not exist yet, waits for it and replays once the issuer creates it', async () => {
    const retries: string[] = [];
    const feed = createJetStreamKeyFeed({
      nc, stream: 'AKM_KEYS_LATER', subjects: 'later.keys.*', retryMs: 50, onRetry: (r) => retries.push(r),
    });
    let replayed = false;
    const started = feed.start(() => {}).then(() => (replayed = true));
    await waitFor(() => retries.length >= 2, 3000);
    expect(replayed).to.equal(false);

    await ensureKeyStream(nc, { maxAgeSeconds: 3600, stream: 'AKM_KEYS_LATER', subjects: 'later.keys.*' });
    await started;

    expect(retries[0]).to.include('not found');
    await feed.stop();
  });

  it('when NATS goes away, reports disconnected with the last contact frozen by the injected clock', async () => {
    let clock = 1_000_000;
    const feed = feedOf({ now: () => clock });
    await feed.start(() => {});
    expect(feed.status()).to.include({ connected: true, lastContactAt: 1_000_000 });

    await nats.kill();
    await waitFor(() => !feed.status().connected, 5000);
    clock += 60_000;

    expect(feed.status()).to.include({ connected: false, lastContactAt: 1_000_000 });
    await nats.start();
    await waitFor(() => feed.status().connected, 10_000);
    expect(feed.status().lastContactAt).to.equal(clock);
    await feed.stop();
  });
});
