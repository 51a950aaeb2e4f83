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
  const logger = options.destination ? pino(config, options.destination) : options.buffered ? pino(config, bufferedStdout()) : pino(config);
  known.add(logger);
  return logger;
}

/** Loggers made by {@link createLogger}: nothing in their configuration changes a line but {@link REDACTED_PATHS}. */
const known = new WeakSet<Logger>();

/** A value {@link flatLineWriter} writes itself. */
type Primitive = string | number | boolean | null | undefined;

/** The fields of a flat line: primitives, or objects of primitives (one level down). */
export type FlatLine = Record<string, Primitive | Record<string, Primitive>>;

/** Names a redaction path can hit at the top of a line, and one level down (by parent; `*` for any). */
const redactedTop = new Set<string>();
const redactedBelow = new Map<string, Set<string>>();
for (const path of REDACTED_PATHS) {
  const [first, second] = path.split(/[.[]/, 2) as [string, string | undefined];
  if (second === undefined) redactedTop.add(first);
  else redactedBelow.set(first, (redactedBelow.get(first) ?? new Set()).add(second));
}
const hitBelow = (parent: string, name: string) => redactedBelow.get('*')?.has(name) || redactedBelow.get(parent)?.has(name);

/** Marks a field {@link flatJson} cannot write as pino would. */
const REFUSED = Symbol('refused');

/** The JSON of a primitive as pino writes it; undefined for a field pino leaves out. */
function jsonOf(value: unknown): string | undefined | typeof REFUSED {
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'object':
      return value === null ? 'null' : REFUSED;
    default:
      return REFUSED;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON of `fields` without its braces (`"a":1,"b":"x"`), or undefined when a field is not
 * flat or a redaction path could hit it. `parent`: the field they are inside, one level down;
 * only the top level may hold objects.
 */
function flatJson(fields: Record<string, unknown>, parent?: string): string | undefined {
  let out = '';
  for (const name in fields) {
    if (parent === undefined ? redactedTop.has(name) : hitBelow(parent, name)) return undefined;
    const value = fields[name];
    let json: string | undefined | typeof REFUSED;
    if (parent === undefined && isPlainObject(value)) {
      const inner = flatJson(value, name);
      json = inner === undefined ? REFUSED : `{${inner}}`;
    } else {
      json = jsonOf(value);
    }
    if (json === REFUSED) return undefined;
    if (json !== undefined) out += `${out ? ',' : ''}${JSON.stringify(name)}:${json}`;
  }
  return out;
}

/**
 * Writes a line of primitives (and objects of primitives) as `logger[level](fields, msg)` would,
 * the same JSON, without pino's general serializer and redaction pass: about a third of the CPU
 * (a request's line is the verifier's costliest step after the signature check, see
 * docs/performance.md). Falls back to the logger for a line it cannot write the same way: a
 * field a redaction path could hit, or one nested deeper. Undefined for a logger that
 * {@link createLogger} did not make (its configuration could change the line).
 */
export function flatLineWriter(logger: Logger): ((level: 'info' | 'warn' | 'error', fields: FlatLine, msg: string) => void) | undefined {
  if (!known.has(logger)) return undefined;
  const s = pino.symbols;
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[s.streamSym] as { write(line: string): void; [k: symbol]: unknown };
  if (stream[s.needsMetadataGsym] === true) return undefined;
  const levels = internals[s.lsCacheSym] as Record<number, string>;
  const time = internals[s.timeSym] as () => string;
  const bindings = internals[s.chindingsSym] as string;
  const end = internals[s.endSym] as string;
  const message = JSON.stringify(internals[s.messageKeySym]);
  return (level, fields, msg) => {
    if (!logger.isLevelEnabled(level)) return;
    const json = flatJson(fields);
    if (json === undefined) {
      logger[level](fields, msg);
      return;
    }
    stream.write(`${levels[logger.levels.values[level]!]}${time()}${bindings}${json ? `,${json}` : ''},${message}:${JSON.stringify(msg)}${end}`);
  };
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
