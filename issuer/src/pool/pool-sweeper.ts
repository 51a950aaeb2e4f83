/**
 * The background loop that applies due releases and purges: one bounded batch per tick, the
 * next tick at once while batches come back full, otherwise after the interval. Ticks never
 * overlap, and a failing tick (Redis away, say) is logged and retried at the next interval.
 */
import type { Logger } from '@akm/common';

/** Options of {@link createSweeper}. */
export interface SweeperOptions {
  /** One bounded batch; `more` asks for the next one at once. */
  sweepOnce: () => Promise<{ more: boolean }>;
  /** Milliseconds between ticks when nothing more is due. */
  intervalMs: number;
  logger: Logger;
}

/** A background loop with an explicit lifecycle. */
export interface Sweeper {
  /** Starts ticking; a second call does nothing. */
  start(): void;
  /** Stops ticking and waits for a tick in progress to end. */
  stop(): Promise<void>;
}

/** Creates the sweeper loop (not started). */
export function createSweeper(options: SweeperOptions): Sweeper {
  const { sweepOnce, intervalMs, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let running = false;

  const schedule = (delayMs: number) => {
    timer = setTimeout(() => {
      inFlight = tick();
    }, delayMs);
    timer.unref();
  };

  async function tick(): Promise<void> {
    let more = false;
    try {
      more = (await sweepOnce()).more;
    } catch (err) {
      logger.warn({ err }, 'pool sweep failed; retrying at the next interval');
    }
    if (running) schedule(more ? 0 : intervalMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
