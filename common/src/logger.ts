/**
 * Structured JSON logging (pino) with the redactions akm relies on: no key string, password,
 * private key or bearer token ever reaches a log line.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths removed from every log line, whatever logged them. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'authorization',
  'key',
  'token',
  'password',
  'privateKey',
  'd',
  '*.key',
  '*.token',
  '*.password',
  '*.privateKey',
  '*.d',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Component name, on every line as `name`. */
  name: string;
  /** pino level; `silent` in tests. */
  level?: string;
  /** Where lines go; standard output by default. */
  destination?: pino.DestinationStream;
  /**
   * Buffer lines written to standard output and write them asynchronously, in blocks of
   * {@link BUFFER_BYTES} or at least every {@link FLUSH_INTERVAL_MS}, and synchronously at
   * process exit (pino flushes its destination on `exit`). A line is then never lost at a
   * graceful stop or a crash that exits, only on SIGKILL. Default false (each line written as
   * it is logged). Ignored with `destination`.
   */
  buffered?: boolean;
}

/** Bytes a buffered logger gathers before it writes. */
export const BUFFER_BYTES = 4096;
/** Longest a line waits in a buffered logger, in milliseconds. */
export const FLUSH_INTERVAL_MS = 200;

function bufferedStdout(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: BUFFER_BYTES, sync: false });
  const timer = setInterval(() => {
    // SonicBoom throws when flushed before its file descriptor is ready or while it writes.
    try {
      destination.flush();
    } catch {
      // the next tick of the timer writes what is left
    }
  }, FLUSH_INTERVAL_MS);
  timer.unref();
  return destination;
}

/** Creates the logger of a component. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(config, options.destination);
  return options.buffered ? pino(config, bufferedStdout()) : pino(config);
}

/** Longest {@link flushLog} waits for the log's destination, in milliseconds. */
const FLUSH_TIMEOUT_MS = 2000;

/**
 * Resolves once every line logged so far is written, also one a buffered logger is still
 * writing asynchronously (the synchronous flush at exit cannot wait for that write). Gives up
 * after {@link FLUSH_TIMEOUT_MS}: a stuck destination does not keep a stopping process alive.
 */
export function flushLog(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
    timer.unref();
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
