/**
 * Runs the issuer's side of usage: applies every report the feed delivers (the usage service
 * commits it, then the feed acknowledges it) and deletes counts past their retention once an
 * hour, in bounded batches.
 */
import type { Logger, UsageFeed } from '@akm/common';
import type { IngestResult, UsageService } from '../domain/usage-service.js';

/** Options of {@link createUsageIngest}. */
export interface UsageIngestOptions {
  feed: UsageFeed;
  service: UsageService;
  logger: Logger;
  /** Called after each report, with what applying it came to. */
  onApplied?: (result: IngestResult) => void;
  /** Milliseconds between retention sweeps. Default one hour. */
  pruneIntervalMs?: number;
}

/** The usage ingest. */
export interface UsageIngest {
  /** Starts applying reports; resolves once the first retention sweep is done. */
  start(): Promise<void>;
  /** Stops consuming (the report being applied finishes first) and the retention sweeps. */
  stop(): Promise<void>;
}

/** Creates the usage ingest; call `start()` to run it. */
export function createUsageIngest(options: UsageIngestOptions): UsageIngest {
  const { feed, service, logger } = options;
  let timer: NodeJS.Timeout | undefined;

  async function prune() {
    try {
      let deleted = 0;
      for (let batch = await service.prune(); batch > 0; batch = await service.prune()) {
        deleted += batch;
        if (deleted >= 1_000_000) break; // the rest on the next sweep
      }
      if (deleted > 0) logger.info({ deleted }, 'usage counts past their retention deleted');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'usage retention sweep failed; retried at the next');
    }
  }

  return {
    async start() {
      await prune();
      feed.start(async (report) => {
        const result = await service.ingest(report);
        if (result.unknownKeys > 0) logger.warn({ report: report.id, unknownKeys: result.unknownKeys }, 'usage of unknown keys dropped');
        options.onApplied?.(result);
      });
      timer = setInterval(() => void prune(), options.pruneIntervalMs ?? 3_600_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await feed.stop();
    },
  };
}
