/**
 * The structured request log: one line per request when its answer is finished (or the client
 * went away), and `req.log`, a logger bound to the request id. It writes the same lines as
 * pino-http configured for akm did, at a fraction of the cost: pino-http made two child loggers
 * and ran the standard serializers (every header) on every request, even with the level off.
 */
import type { RequestHandler, Response } from 'express';
import type { Logger } from './logger.js';

declare module 'node:http' {
  interface IncomingMessage {
    /** The request's logger: every line carries its `requestId`. */
    log: Logger;
  }
}

const FIELDS = Symbol('akmRequestLogFields');

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
 * the client left before the answer was sent, `request errored` (error) on a 5xx or a stream
 * error, with `requestId`, `req` (method, URL without its query), `res` (status) and
 * `responseTime` (milliseconds), and whatever the handlers added with
 * {@link addRequestLogFields} (the verifier's key id, owner and outcome). Reads the request id
 * that an earlier middleware put in `res.locals.requestId`.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    const requestId = String(res.locals.requestId ?? '');
    const line = { method: req.method, url: redactQuery(req.originalUrl ?? req.url) };
    const extra: Record<string, unknown> = {};
    res.locals[FIELDS as unknown as string] = extra;
    let child: Logger | undefined;
    // Most requests log nothing but their last line: bind the child logger only when used.
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (child ??= logger.child({ requestId })),
      set: (value: Logger) => void (child = value),
    });

    const done = (err?: Error) => {
      res.off('finish', done);
      res.off('close', done);
      res.off('error', done);
      logOutcome(logger, requestId, line, res, Date.now() - started, err, extra);
    };
    res.on('finish', done);
    res.on('close', done);
    res.on('error', done);
    next();
  };
}

function logOutcome(
  logger: Logger,
  requestId: string,
  req: { method: string; url: string },
  res: Response,
  responseTime: number,
  err: Error | undefined,
  extra: Record<string, unknown>,
): void {
  const status = { statusCode: res.headersSent ? res.statusCode : null };
  if (err || res.statusCode >= 500) {
    const error = err ?? new Error(`failed with status code ${res.statusCode}`);
    logger.error({ requestId, req, res: status, err: error, responseTime, ...extra }, 'request errored');
    return;
  }
  if (!logger.isLevelEnabled('info')) return;
  const aborted = res.req.readableAborted || !res.writableEnded;
  logger.info({ requestId, req, res: status, responseTime, ...extra }, aborted ? 'request aborted' : 'request completed');
}
