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
  return options.destination ? pino(config, options.destination) : pino(config);
}
