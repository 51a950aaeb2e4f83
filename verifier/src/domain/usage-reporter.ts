/**
 * Hands the verifier's usage counts to the bus every interval: one report per flush (split only
 * when very large), each with an id of its own. A report the bus did not take is kept and sent
 * again with the same id, so a re-send after a lost acknowledgement is dropped downstream rather
 * than counted twice; meanwhile new requests keep counting in the tally.
 */
import type { Logger, UsagePublisher, UsageReport } from '@akm/common';
import type { UsageMinute, UsageTally } from './usage-tally.js';

/** Options of {@link createUsageReporter}. */
export interface UsageReporterOptions {
  tally: UsageTally;
  publisher: UsagePublisher;
  /** This verifier instance's name in report ids and subjects (letters, digits, `_`, `-`). */
  source: string;
  /** Milliseconds between flushes. */
  intervalMs: number;
  logger: Logger;
  /** Most key-minutes in one report (a report must fit in one NATS message). Default 2000. */
  maxEntriesPerReport?: number;
  /** Called after each attempt to publish a report. */
  onReport?: (result: 'sent' | 'failed') => void;
  /** Called with the number of requests that could not be reported at shutdown. */
  onLost?: (requests: number) => void;
}

/** The flush loop of a verifier's usage. */
export interface UsageReporter {
  /** Flushes every interval from now on. */
  start(): void;
  /** Sends what is counted now; resolves true once everything was taken by the bus. */
  flush(): Promise<boolean>;
  /** Stops the loop and makes a last flush, giving up after `timeoutMs` (default 2000). */
  stop(timeoutMs?: number): Promise<void>;
}

/** Creates the reporter; call `start()` to run it. */
export function createUsageReporter(options: UsageReporterOptions): UsageReporter {
  const { tally, publisher, logger } = options;
  const maxEntries = options.maxEntriesPerReport ?? 2000;
  let pending: UsageReport[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> = Promise.resolve(true);
  let failing = false;

  function reportsOf(minutes: UsageMinute[]): UsageReport[] {
    const reports: UsageReport[] = [];
    let report: UsageReport | undefined;
    let entries = 0;
    for (const minute of minutes) {
      let part: UsageMinute | undefined;
      for (const [keyId, counts] of Object.entries(minute.keys)) {
        if (!report || entries >= maxEntries) {
          report = { v: 1, id: `${options.source}:${++seq}`, source: options.source, minutes: [] };
          reports.push(report);
          entries = 0;
          part = undefined;
        }
        if (!part) report.minutes.push((part = { at: minute.at, keys: {} }));
        part.keys[keyId] = counts;
        entries++;
      }
    }
    return reports;
  }

  /** Sends the pending reports in order; false at the first one the bus refuses. */
  async function sendPending(): Promise<boolean> {
    while (pending.length > 0) {
      try {
        await publisher.publish(pending[0]!);
      } catch (err) {
        options.onReport?.('failed');
        if (!failing) logger.warn({ err: (err as Error).message }, 'usage report not accepted; keeping it and counting on');
        failing = true;
        return false;
      }
      pending.shift();
      options.onReport?.('sent');
    }
    return true;
  }

  async function flushOnce(): Promise<boolean> {
    // Reports kept from a refused flush go first, as they were made; then what was counted since.
    if (pending.length > 0 && !(await sendPending())) return false;
    pending = reportsOf(tally.drain());
    if (!(await sendPending())) return false;
    if (failing) logger.info('usage reports accepted again');
    failing = false;
    return true;
  }

  const flush = () => (running = running.then(flushOnce, flushOnce));

  return {
    start() {
      timer ??= setInterval(() => void flush(), options.intervalMs);
      timer.unref();
    },
    flush,
    async stop(timeoutMs = 2000) {
      clearInterval(timer);
      let giveUp: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        flush(),
        new Promise<false>((resolve) => (giveUp = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(giveUp);
      if (done) return;
      const lost = pending.reduce((n, r) => n + requestsIn(r), 0) + tally.pending();
      if (lost > 0) {
        options.onLost?.(lost);
        logger.warn({ requests: lost }, 'usage not reported at shutdown: the bus did not take it in time');
      }
    },
  };
}

function requestsIn(report: UsageReport): number {
  let n = 0;
  for (const minute of report.minutes) for (const counts of Object.values(minute.keys)) for (const c of Object.values(counts)) n += c ?? 0;
  return n;
}
