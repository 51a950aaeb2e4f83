/**
 * Steady background traffic for fault cases: a few workers asking the verifiers in turn, each
 * answer's status counted, until stopped or a deadline (so a failing test cannot leave it running).
 */
import { price } from './akm-client.js';

/** Running background load. */
export interface BackgroundLoad {
  /** Stops the workers and resolves to the count of answers per status ("error" when unreachable). */
  stop(): Promise<Record<string, number>>;
  /** Answers so far. */
  total(): number;
}

/** Starts `workers` loops of `GET /price` with `key` over `urls`, for at most `maxMs`. */
export function startBackgroundLoad(urls: string[], key: string, workers = 6, maxMs = 60_000): BackgroundLoad {
  const counts: Record<string, number> = {};
  let total = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = w; !stopped && Date.now() < deadline; i++) {
      const res = await price(urls[i % urls.length]!, key).catch(() => undefined);
      const status = res ? String(res.status) : 'error';
      counts[status] = (counts[status] ?? 0) + 1;
      total++;
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return counts;
    },
    total: () => total,
  };
}
