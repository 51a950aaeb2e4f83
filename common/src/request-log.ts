/**
 * The structured request log: one line per request when its answer is finished (or the client
 * went away), and `req.log`, a logger bound to the request id. It writes the same lines as
 * pino-http configured for akm did, at a fraction of the cost: pino-http made two child loggers
 * and ran the standard serializers (every header) on every request, even with the level off.
 */
import type { RequestHandler, Response } from 'express';
import { flatLineWriter, type FlatLine, type Logger } from './logger.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's logger: every line carries its `requestId`. */
    log: Logger;
  }
}

/** What the request log keeps of one request, in `res.locals` (a dictionary already: no shape change). */
interface RequestLogState {
  logger: Logger;
  requestId: string;
  /** The request's child logger, bound on first use: most requests log nothing but their last line. */
  child: Logger | undefined;
}

const STATE = Symbol('akmRequestLog');
const FIELDS = Symbol('akmRequestLogFields');

type WithState = { res?: { locals?: Record<symbol, RequestLogState | undefined> } };

/**
 * Gives every request of an app `req.log` through one accessor on the app's request prototype,
 * defined once, instead of a property defined on each request (a per-request shape change of
 * the hottest object of the app).
 */
function installLogAccessor(proto: object): void {
  if (Object.prototype.hasOwnProperty.call(proto, 'log')) return;
  Object.defineProperty(proto, 'log', {
    configurable: true,
    enumerable: false,
    get(this: WithState) {
      const state = this.res?.locals?.[STATE];
      if (!state) return undefined;
      return (state.child ??= state.logger.child({ requestId: state.requestId }));
    },
    set(this: WithState, value: Logger) {
      const state = this.res?.locals?.[STATE];
      if (state) state.child = value;
      else Object.defineProperty(this, 'log', { value, writable: true, configurable: true, enumerable: true });
    },
  });
}

/**
 * Adds fields to the request's one log line, when the app writes one ({@link requestLog});
 * returns false when it does not, so that the caller logs them itself.
 */
export function addRequestLogFields(res: Response, fields: Record<string, unknown>): boolean {
  const line = res.locals[FIELDS as unknown as string] as Record<string, unknown> | undefined;
  if (!line) return false;
  Object.assign(line, fields);
  return true;
}

/** Query parameters are not logged: a careless client may put a key there. */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

/**
 * Logs each request once it is over: `request completed` (info), `request aborted` (info) when
 * the client left before the answer was sent, `request failed` on a 5xx (warn for 503, error
 * otherwise), `request errored` (error, with the error) on a stream error, with `requestId`, `req` (method, URL without its query), `res` (status) and
 * `responseTime` (milliseconds), and whatever the handlers added with
 * {@link addRequestLogFields} (the verifier's key id, owner and outcome). Reads the request id
 * that an earlier middleware put in `res.locals.requestId`.
 */
export function requestLog(logger: Logger): RequestHandler {
  let installedOn: object | undefined;
  const write: LineWriter = flatLineWriter(logger) ?? ((level, fields, msg) => logger[level](fields, msg));
  return (req, res, next) => {
    const started = Date.now();
    const requestId = String(res.locals.requestId ?? '');
    const extra: Record<string, unknown> = {};
    res.locals[FIELDS as unknown as string] = extra;
    const proto = Object.getPrototypeOf(req) as object;
    if (proto !== installedOn) {
      installLogAccessor(proto);
      installedOn = proto;
    }
    res.locals[STATE as unknown as string] = { logger, requestId, child: undefined } satisfies RequestLogState;
    const url = req.originalUrl ?? req.url;
    const method = req.method;
    let error: Error | undefined;
    // 'close' follows 'finish' and also comes when the client went away: one listener for the
    // line, and one for a stream error (an 'error' nobody listens to would crash the process).
    const failed = (err: Error) => void (error ??= err);
    res.once('error', failed);
    res.once('close', () => {
      res.off('error', failed);
      logOutcome(logger, write, requestId, { method, url: redactQuery(url) }, res, Date.now() - started, error, extra);
    });
    next();
  };
}

/** Writes a line of the request log. */
type LineWriter = (level: 'info' | 'warn' | 'error', fields: FlatLine, msg: string) => void;

function logOutcome(
  logger: Logger,
  write: LineWriter,
  requestId: string,
  req: { method: string; url: string },
  res: Response,
  responseTime: number,
  err: Error | undefined,
  extra: Record<string, unknown>,
): void {
  const status = { statusCode: res.headersSent ? res.statusCode : null };
  if (err) {
    logger.error({ requestId, req, res: status, err, responseTime, ...extra }, 'request errored');
    return;
  }
  if (res.statusCode >= 500) {
    // An answer the service chose (an unhandled error was logged in full where it was caught):
    // no made-up stack. 503 is the service saying it cannot serve yet (replaying, a dependency
    // away), which a load balancer's probe asks about every second while it lasts: a warning.
    const line = { requestId, req, res: status, responseTime, ...extra } as FlatLine;
    write(res.statusCode === 503 ? 'warn' : 'error', line, 'request failed');
    return;
  }
  if (!logger.isLevelEnabled('info')) return;
  const aborted = !res.writableFinished;
  write('info', { requestId, req, res: status, responseTime, ...extra } as FlatLine, aborted ? 'request aborted' : 'request completed');
}
