import { expect } from 'chai';
import request from 'supertest';
import type { KeyEvent, KeyEventPublisher } from '@akm/common';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

/**
 * A bus the test switches on: while down, every publish is refused and the relay backs off
 * (50, 100, 200, 400, 800 ms…). It records when the relay tried, so the test knows when the
 * relay's next try is due.
 */
interface SwitchableBus {
  up: boolean;
  /** When each refused publish happened, ms. */
  attempts: number[];
  published: Array<{ event: KeyEvent; at: number }>;
  onRefused?: (attempt: number) => void;
  publisher: KeyEventPublisher;
}

function switchableBus(): SwitchableBus {
  const bus: SwitchableBus = {
    up: false,
    attempts: [],
    published: [],
    publisher: {
      async publish(event) {
        if (!bus.up) {
          bus.attempts.push(Date.now());
          bus.onRefused?.(bus.attempts.length);
          throw new Error('bus down');
        }
        bus.published.push({ event, at: Date.now() });
      },
      isConnected: () => bus.up,
      async close() {},
    },
  };
  return bus;
}

describe('issuer: shutdown flushes the outbox', () => {
  let issuer: TestIssuer | undefined;
  afterEach(async () => {
    await issuer?.destroy();
    issuer = undefined;
  });

  it('when the bus is back while the relay waits out its back-off, stop() sends the waiting event before it returns', async () => {
    const bus = switchableBus();
    issuer = await startTestIssuer({ publisher: bus.publisher });
    const running = issuer;
    // The fifth refusal puts the relay to sleep for 800 ms. Right after it (setImmediate: the
    // relay is asleep by then) the bus comes back and the issuer is told to stop; only the
    // shutdown's flush can send the event before the relay's own next try.
    let stopping: Promise<void> | undefined;
    let fifthRefusalAt = 0;
    const stopped = new Promise<void>((resolve, reject) => {
      bus.onRefused = (attempt) => {
        if (attempt !== 5) return;
        fifthRefusalAt = Date.now();
        setImmediate(() => {
          bus.up = true;
          stopping = running.stop();
          stopping.then(resolve, reject);
        });
      };
    });

    const created = await request(running.url).post('/admin/keys').set('Authorization', `Bearer ${running.admin}`).send({ sub: 'sam' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await stopped;

    expect(bus.published.map((p) => p.event.keyId), 'the event went out during stop()').to.deep.equal([created.body.id]);
    expect(bus.published[0]!.event.type).to.equal('key.created');
    expect(bus.published[0]!.at - fifthRefusalAt, "sent by the flush, not the relay's retry 800 ms later").to.be.below(800);
  });

  it('when the bus is still down at stop(), stop() does not wait for it, and the event stays in the outbox for the next start', async () => {
    const bus = switchableBus();
    issuer = await startTestIssuer({ publisher: bus.publisher });
    const created = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'tess' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const began = Date.now();
    await issuer.stop();
    expect(Date.now() - began, 'no 5 s flush wait with the bus down').to.be.below(2000);
    expect(bus.published).to.deep.equal([]);

    const again = switchableBus();
    again.up = true;
    const restarted = await startTestIssuer({ publisher: again.publisher, dataDir: issuer.dataDir });
    try {
      await restarted.relay.flush(2000);
      expect(again.published.map((p) => p.event.keyId)).to.deep.equal([created.body.id]);
    } finally {
      await restarted.stop();
    }
  });
});
