/**
 * How every akm process starts and stops: start it, keep it until SIGTERM or SIGINT, then stop
 * it once, in order, and exit. A start that fails for a reason the operator can fix (a bad
 * setting, an unusable directory) is one line on stderr with a distinct exit code, never a
 * stack trace; anything else is a bug and is shown in full.
 */
import { flushLog, type Logger } from './logger.js';

/** A start-up failure the operator can fix; `exitCode` follows sysexits.h where one fits. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Something running that can be stopped. */
export interface Stoppable {
  /** Stops it in order (HTTP, consumers, connections, stores); resolves when done. */
  stop(): Promise<void>;
  /** Re-reads what may change under it (e.g. a key file), on SIGHUP; without it SIGHUP stops the process. */
  reload?(): Promise<void>;
}

/**
 * Stops `running` on the first SIGTERM or SIGINT, then exits (0, or 1 when stopping failed);
 * calls its `reload` on SIGHUP when it has one.
 * Only process entry points call this: it owns the process.
 */
export function runUntilSignal(running: Stoppable, logger: Logger): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => {
        logger.info('stopped');
        return flushLog(logger).then(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        void flushLog(logger).then(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const { reload } = running;
  if (reload) {
    process.on('SIGHUP', () => {
      if (stopping) return;
      logger.info({ signal: 'SIGHUP' }, 'reloading');
      reload.call(running).catch((err: unknown) => logger.error({ err }, 'reload failed'));
    });
  }
}

/**
 * The body of a `main.ts`: runs `start`, then {@link runUntilSignal}. A {@link StartupError}
 * prints `<name>: <message>` and exits with its code; any other failure prints its stack, exit 1.
 */
export function runMain(name: string, start: () => Promise<Stoppable & { logger: Logger }>): void {
  start().then(
    (running) => runUntilSignal(running, running.logger),
    (err: unknown) => {
      if (err instanceof StartupError) {
        process.stderr.write(`${name}: ${err.message}\n`);
        process.exit(err.exitCode);
      }
      process.stderr.write(`${name} failed to start: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
