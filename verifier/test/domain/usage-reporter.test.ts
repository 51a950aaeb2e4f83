import { expect } from 'chai';
import { createLogger, type UsagePublisher, type UsageReport } from '@akm/common';
import { createUsageReporter } from '../../src/domain/usage-reporter.js';
import { createUsageTally } from '../../src/domain/usage-tally.js';

const silent = createLogger({ name: 'test', level: 'silent' });

/** A publisher (the domain's port) that keeps what it was given, and refuses while `down`. */
function recordingPublisher() {
  const attempts: UsageReport[] = [];
  const stored = new Map<string, UsageReport>();
  const state = { down: false };
  const publisher: UsagePublisher = {
    async publish(report) {
      attempts.push(structuredClone(report));
      if (state.down) throw new Error('bus down');
      stored.set(report.id, structuredClone(report));
    },
  };
  return { publisher, attempts, stored, state };
}

const total = (reports: Iterable<UsageReport>, keyId: string, outcome: string) => {
  let n = 0;
  for (const r of reports) for (const m of r.minutes) n += (m.keys[keyId] as Record<string, number> | undefined)?.[outcome] ?? 0;
  return n;
};

describe('verifier: usage counts (tally and reporter)', () => {
  it('counts per key, minute and outcome; requests without a key of their own are not counted', () => {
    let clock = Date.UTC(2031, 0, 15, 10, 30, 50);
    const tally = createUsageTally({ now: () => clock });
    tally.record('k1', 'ok');
    tally.record('k1', 'ok');
    tally.record('k1', 'rate_limited');
    tally.record('k2', 'forbidden');
    clock += 15_000; // the next minute
    for (const outcome of ['revoked', 'disabled', 'expired', 'ok'] as const) tally.record('k1', outcome);
    for (const outcome of ['invalid', 'missing_credentials', 'malformed_credentials', 'unavailable', 'not_yet_valid'] as const) {
      tally.record('k1', outcome);
    }
    expect(tally.pending()).to.equal(8);
    const minute = Math.floor(Date.UTC(2031, 0, 15, 10, 30) / 1000);
    expect(tally.drain()).to.deep.equal([
      { at: minute, keys: { k1: { served: 2, rate_limited: 1 }, k2: { forbidden: 1 } } },
      { at: minute + 60, keys: { k1: { served: 1, revoked: 1, disabled: 1, expired: 1 } } },
    ]);
    expect(tally.drain(), 'empty after a drain').to.deep.equal([]);
  });

  it('sends one report per flush, not one per request, each with an id of its own', async () => {
    const bus = recordingPublisher();
    const tally = createUsageTally({ now: Date.now });
    const reporter = createUsageReporter({ tally, publisher: bus.publisher, source: 'v1', intervalMs: 60_000, logger: silent });
    for (let i = 0; i < 1000; i++) tally.record(`k${i % 3}`, 'ok');
    expect(bus.attempts, 'nothing is sent per request').to.have.length(0);
    expect(await reporter.flush()).to.equal(true);
    for (let i = 0; i < 10; i++) tally.record('k0', 'rate_limited');
    expect(await reporter.flush()).to.equal(true);
    expect(await reporter.flush(), 'an empty flush sends nothing').to.equal(true);
    expect(bus.attempts.map((r) => r.id)).to.deep.equal(['v1:1', 'v1:2']);
    expect(total(bus.stored.values(), 'k0', 'served')).to.equal(334);
    expect(total(bus.stored.values(), 'k0', 'rate_limited')).to.equal(10);
  });

  it('keeps a report the bus refused and sends it again with the same id; what came after goes in a report of its own', async () => {
    const bus = recordingPublisher();
    const tally = createUsageTally({ now: Date.now });
    const reporter = createUsageReporter({ tally, publisher: bus.publisher, source: 'v1', intervalMs: 60_000, logger: silent });
    tally.record('k', 'ok');
    bus.state.down = true;
    expect(await reporter.flush()).to.equal(false);
    tally.record('k', 'ok');
    tally.record('k', 'ok');
    expect(await reporter.flush()).to.equal(false);
    bus.state.down = false;
    expect(await reporter.flush()).to.equal(true);
    expect(bus.attempts.map((r) => r.id)).to.deep.equal(['v1:1', 'v1:1', 'v1:1', 'v1:2']);
    expect(total([bus.stored.get('v1:1')!], 'k', 'served'), 'the re-sent report is the one first made').to.equal(1);
    expect(total(bus.stored.values(), 'k', 'served')).to.equal(3);
  });

  it('splits a flush too large for one message into several reports', async () => {
    const bus = recordingPublisher();
    const tally = createUsageTally({ now: Date.now });
    const reporter = createUsageReporter({ tally, publisher: bus.publisher, source: 'v1', intervalMs: 60_000, logger: silent, maxEntriesPerReport: 10 });
    for (let i = 0; i < 25; i++) tally.record(`k${i}`, 'ok');
    await reporter.flush();
    expect(bus.attempts.map((r) => r.minutes.reduce((n, m) => n + Object.keys(m.keys).length, 0))).to.deep.equal([10, 10, 5]);
    expect(new Set(bus.attempts.map((r) => r.id)).size).to.equal(3);
  });

  it('flushes every interval once started, and sends the last interval when stopped', async () => {
    const bus = recordingPublisher();
    const tally = createUsageTally({ now: Date.now });
    const reporter = createUsageReporter({ tally, publisher: bus.publisher, source: 'v1', intervalMs: 50, logger: silent });
    reporter.start();
    tally.record('k', 'ok');
    const deadline = Date.now() + 2000;
    while (bus.stored.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(bus.stored.size, 'a flush within the interval').to.equal(1);
    tally.record('k', 'forbidden');
    await reporter.stop();
    expect(total(bus.stored.values(), 'k', 'forbidden'), 'the last interval is sent at stop').to.equal(1);
  });

  it('while the bus is down it holds an hour of minutes, then drops the oldest and says how many requests it lost', async () => {
    let clock = Date.UTC(2031, 0, 15, 10, 0, 0);
    let dropped = 0;
    const tally = createUsageTally({ now: () => clock, maxMinutes: 3, onDropped: (n) => (dropped += n) });
    for (let minute = 0; minute < 5; minute++) {
      tally.record('k', 'ok');
      clock += 60_000;
    }
    expect(dropped).to.equal(2);
    expect(tally.drain().map((m) => m.at - Date.UTC(2031, 0, 15, 10, 0, 0) / 1000)).to.deep.equal([120, 180, 240]);
  });
});
