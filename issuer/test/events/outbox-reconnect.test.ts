/**
 * Back in touch at once: the relay retries the moment its publisher reconnects, not when its
 * back-off timer ends; the JetStream publisher says when it (re)connects.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { connectNats, createLogger, ensureKeyStream, type KeyEvent, type KeyEventPublisher } from '@akm/common';
import { startNats, waitFor, type TestServer } from '../../../test/support/processes.js';
import type { OutboxEntry, OutboxRepository } from '../../src/domain/outbox.js';
import { createJetStreamPublisher } from '../../src/events/jetstream-publisher.js';
import { createOutboxRelay, type OutboxRelay } from '../../src/events/outbox-relay.js';

const silent = createLogger({ name: 'outbox-reconnect-test', level: 'silent' });

function eventOf(keyId = randomUUID()): KeyEvent {
  const nowS = Math.floor(Date.now() / 1000);
  return { v: 2, type: 'key.revoked', id: randomUUID(), keyId, sub: 'alice', role: 'user', status: 'revoked', rateLimit: 10, expiresAt: nowS + 3600, version: 2, at: nowS };
}

/** The outbox port in memory: the relay's behaviour, not SQLite's, is under test here. */
function memoryOutbox(): OutboxRepository {
  const rows: Array<OutboxEntry & { sentAt?: number }> = [];
  return {
    add: async (event) => void rows.push({ seq: rows.length + 1, event }),
    pending: async (limit) => rows.filter((r) => r.sentAt === undefined).slice(0, limit),
    markSent: async (seq, nowMs) => void (rows[seq - 1]!.sentAt = nowMs),
    backlog: async () => rows.filter((r) => r.sentAt === undefined).length,
    prune: async () => 0,
  };
}

describe('outbox relay: a bus that comes back', () => {
  let relay: OutboxRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
  });

  it('when the publisher reconnects during a long back-off, publishes the backlog at once', async function () {
    this.timeout(20_000);
    const outbox = memoryOutbox();
    await outbox.add(eventOf(), Date.now());
    let up = false;
    let attempts = 0;
    const listeners: Array<() => void> = [];
    const publisher: KeyEventPublisher = {
      async publish() {
        attempts++;
        if (!up) throw new Error('bus down');
      },
      isConnected: () => up,
      onConnected: (listener) => void listeners.push(listener),
      async close() {},
    };
    relay = createOutboxRelay({ outbox, publisher, logger: silent, now: Date.now, maxBackoffMs: 60_000 });
    relay.start();
    // Back-offs of 50, 100, 200, 400 and 800 ms: the relay now sleeps 1.6 s, then 3.2 s…
    await waitFor(() => attempts >= 6, 10_000, 5);

    up = true;
    const backAt = Date.now();
    for (const listener of listeners) listener();
    await waitFor(async () => (await outbox.backlog()) === 0, 5000, 5);

    expect(Date.now() - backAt, 'published after the reconnect').to.be.below(500);
  });
});

describe('JetStream publisher: reconnects', () => {
  let nats: TestServer;
  let publisher: KeyEventPublisher | undefined;
  beforeEach(async () => {
    nats = await startNats({ owned: true });
  });
  afterEach(async () => {
    await publisher?.close();
    publisher = undefined;
    await nats.destroy();
  });

  it('tells its listeners each time it connects, and refuses to publish at once while disconnected', async function () {
    this.timeout(30_000);
    let connects = 0;
    publisher = createJetStreamPublisher({
      connect: () => connectNats({ url: nats.url, name: 'publisher-test' }),
      ensureStream: (nc) => ensureKeyStream(nc, { maxAgeSeconds: 3600 }),
      logger: silent,
    });
    publisher.onConnected?.(() => connects++);
    await waitFor(() => connects === 1, 5000);
    await publisher.publish(eventOf());

    await nats.stop();
    await waitFor(() => !publisher!.isConnected(), 5000);
    const t0 = Date.now();
    const refused = await publisher.publish(eventOf()).then(() => 'published', (err: Error) => err.message);
    expect(refused).to.equal('disconnected from NATS');
    expect(Date.now() - t0, 'refused without waiting for a time-out').to.be.below(500);

    await nats.start();
    await waitFor(() => connects === 2, 10_000);
    expect(publisher.isConnected()).to.equal(true);
    await publisher.publish(eventOf());
  });
});
