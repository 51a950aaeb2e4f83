/**
 * The feed's pull cycle against a real nats-server: events that land at the very moment a pull
 * request expires, NATS restarts, and replays longer than one pull batch.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { jetstream } from '@nats-io/jetstream';
import { connectNats, encodeKeyEvent, type KeyEvent, type NatsConnection } from '@akm/common';
import { startNats, waitFor, type TestServer } from '../../../test/support/processes.js';
import { createJetStreamKeyFeed } from '../../src/consumers/jetstream-key-feed.js';
import { createTestStream, keyEvent, type TestStream } from '../support/key-events.js';
import type { SignedKey } from '../support/signing.js';

/** The state of a key for an event; the feed never looks at a token. */
function someKey(): SignedKey {
  return { token: '', keyId: `key_${randomUUID().slice(0, 8)}`, sub: 'alice', rateLimit: 100, exp: Math.floor(Date.now() / 1000) + 3600 };
}

/** Resolves at `at` (performance.now() milliseconds), spinning for the last two so it is not late. */
function at(target: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      while (performance.now() < target);
      resolve();
    }, Math.max(0, target - performance.now() - 2)),
  );
}

describe('JetStream key feed: pulls, restarts and long replays', () => {
  let nats: TestServer;
  let stream: TestStream;
  let nc: NatsConnection;

  beforeEach(async () => {
    nats = await startNats({ owned: true });
    stream = await createTestStream(nats.url);
    nc = await connectNats({ url: nats.url, name: 'feed-pulls-test' });
  });
  afterEach(async () => {
    await stream?.close().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    await nats?.destroy();
  });

  it('when events land just as a pull request expires, delivers each one long before the next pull cycle', async function () {
    this.timeout(60_000);
    // heartbeatMs 500 makes each pull expire after 1 s. A second connection sees every pull the
    // feed sends, so the test can publish right around each one's expiry.
    const heartbeatMs = 500;
    const expiresMs = 2 * heartbeatMs;
    const delivered = new Map<string, number>();
    const feed = createJetStreamKeyFeed({ nc, stream: stream.stream, subjects: stream.subjects, heartbeatMs });
    await feed.start((e) => delivered.set(e.keyId, performance.now()));

    const sniffer = await connectNats({ url: nats.url, name: 'pull-sniffer' });
    const published = new Map<string, number>();
    const publishing: Promise<void>[] = [];
    let cycles = 0;
    let lastPlannedAt = -Infinity;
    const sub = sniffer.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream.stream}.>`, {
      callback: () => {
        const pulledAt = performance.now();
        if (pulledAt - lastPlannedAt < expiresMs / 2 || cycles >= 16) return;
        lastPlannedAt = pulledAt;
        cycles++;
        for (const offset of [-1, 0, 0.5, 1, 2]) {
          const key = someKey();
          publishing.push(
            at(pulledAt + expiresMs + offset).then(async () => {
              published.set(key.keyId, performance.now());
              await stream.publish(keyEvent(key, 'key.revoked', { version: 1 }));
            }),
          );
        }
      },
    });
    try {
      await waitFor(() => cycles >= 16, 40_000, 50);
      await Promise.all(publishing);
      await waitFor(() => delivered.size >= published.size, 10_000, 20);
    } finally {
      sub.unsubscribe();
      await sniffer.close();
      await feed.stop();
    }

    const delays = [...published].map(([keyId, sentAt]) => ({ keyId, ms: Math.round(delivered.get(keyId)! - sentAt) }));
    const slow = delays.filter((d) => d.ms > 300);
    expect(published.size).to.equal(80);
    expect(slow, `slowest ${Math.max(...delays.map((d) => d.ms))} ms of ${delays.length}`).to.deep.equal([]);
  });

  it('when NATS restarts, follows again on the reconnect itself, not after heartbeats or pull back-off', async function () {
    this.timeout(60_000);
    // Heartbeats of 10 s: the silence watchdog (3 heartbeats) and the client's own back-off
    // (the pull's 20 s expiry) cannot be what brings the feed back within the few seconds allowed.
    const seen: KeyEvent[] = [];
    const feed = createJetStreamKeyFeed({ nc, stream: stream.stream, subjects: stream.subjects, heartbeatMs: 10_000 });
    await feed.start((e) => seen.push(e));
    const before = someKey();
    await stream.publish(keyEvent(before, 'key.created', { version: 1 }));
    await waitFor(() => seen.length === 1, 3000);

    await nats.stop();
    await nats.start();
    const backAt = Date.now();
    // A connection of its own, so that no request left hanging across the restart delays the publish.
    const publisher = await connectNats({ url: nats.url, name: 'after-restart' });
    const after = Array.from({ length: 5 }, someKey);
    const js = jetstream(publisher, { timeout: 500 });
    const publish = (key: SignedKey) =>
      js.publish(`${stream.subjects.slice(0, -1)}${key.keyId}`, encodeKeyEvent(keyEvent(key, 'key.revoked', { version: 1 })));
    let publishedAt = 0;
    try {
      await waitFor(() => publish(after[0]!).then(() => true, () => false), 10_000, 20);
      publishedAt = Date.now();
      for (const key of after.slice(1)) await publish(key);
      await waitFor(() => after.every((k) => seen.some((e) => e.keyId === k.keyId)), 30_000, 10);
    } finally {
      await publisher.close();
      await feed.stop();
    }
    const deliveredMs = Date.now() - publishedAt;
    expect(deliveredMs, `delivered ${deliveredMs} ms after it was published (${publishedAt - backAt} ms after NATS was back)`).to.be.below(2000);
  });

  it('when the stream holds more events than one pull batch, start resolves only once every one was delivered', async function () {
    this.timeout(60_000);
    const keys = Array.from({ length: 2600 }, someKey);
    for (let i = 0; i < keys.length; i += 200) {
      await Promise.all(keys.slice(i, i + 200).map((k) => stream.publish(keyEvent(k, 'key.revoked', { version: 1 }))));
    }
    const seen = new Set<string>();
    const feed = createJetStreamKeyFeed({ nc, stream: stream.stream, subjects: stream.subjects });

    await feed.start((e) => seen.add(e.keyId));
    const atStart = seen.size;
    await feed.stop();

    expect(atStart, 'events delivered when start resolved').to.equal(keys.length);
  });
});
