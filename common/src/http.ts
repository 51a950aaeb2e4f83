/**
 * Express building blocks shared by the issuer and the verifier: request ids and logs,
 * security headers, JSON bodies with clear errors, bearer parsing, and the one problem+json
 * error shape on the wire (RFC 9457).
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { AppError, isAppError, statusFor, type ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import type { Problem } from './problem-schema.js';
import { requestLog } from './request-log.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of a request: taken from a well-formed `X-Request-Id` or generated. */
export function requestIdOf(res: Response): string {
  return String(res.locals.requestId ?? '');
}

/**
 * Request ids for one process: a random UUID's first 24 characters (chosen per process) and a
 * 12-hex-digit counter, so an id keeps a UUID's shape, never repeats within a process (2^48
 * requests) and is not guessable across processes, at the cost of an increment instead of a
 * `randomUUID()` per request.
 */
function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let counter = 0;
  return () => prefix + (counter++).toString(16).padStart(12, '0');
}

/**
 * Helmet's default headers, computed once: helmet() sets the same header values on every
 * answer, so running it once against a recorder gives the exact bytes to send each time.
 */
function securityHeaders(): { set: [name: string, value: string][]; removed: string[] } {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void set.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let called = false;
  helmet()({} as never, recorder as never, () => (called = true));
  // helmet's defaults are synchronous; anything else would mean its headers vary per request.
  if (!called) throw new Error('helmet did not finish synchronously');
  return { set, removed };
}

/**
 * Request id, structured request log and security headers, in one middleware. The request id
 * is echoed in `X-Request-Id` and on every log line of the request (`req.log`); the security
 * headers are helmet's defaults, byte for byte.
 */
export function baseMiddleware(logger: Logger): RequestHandler[] {
  const nextId = requestIds();
  const { set, removed } = securityHeaders();
  const log = requestLog(logger);
  const base: RequestHandler = (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : nextId();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    log(req, res, next);
  };
  return [base];
}

/** True when a request carries a body of at least one byte. */
function hasBody(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A strict JSON body parser (objects and arrays only) with a size limit; its failures become
 * `malformed_json` (400) and `payload_too_large` (413) problems, and a body that is not sent as
 * JSON (`Content-Type: application/json`) is 415 `unsupported_media_type` naming the header,
 * rather than a body that looks missing.
 */
export function jsonBody(limit = '64kb'): RequestHandler {
  const parse = express.json({ limit, strict: true });
  return (req, res, next) => {
    if (hasBody(req) && !req.is('application/json')) {
      const sent = req.get('content-type');
      return next(
        new AppError('unsupported_media_type', `the body must be JSON, sent with Content-Type: application/json (got ${sent ? `"${sent}"` : 'no Content-Type'})`, {
          // RFC 9110 §15.5.16: say which media types the method takes.
          headers: { [req.method === 'PATCH' ? 'Accept-Patch' : 'Accept-Post']: 'application/json' },
        }),
      );
    }
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const type = (err as { type?: string }).type;
      if (type === 'entity.too.large') return next(new AppError('payload_too_large', `body larger than ${limit}`));
      if (type === 'entity.parse.failed') return next(new AppError('malformed_json', 'body is not valid JSON'));
      return next(new AppError('bad_request', 'body could not be read', { cause: err }));
    });
  };
}

/** Result of reading a bearer credential: expected failures are data. */
export type BearerResult =
  | { ok: true; token: string }
  | { ok: false; reason: 'missing_credentials' | 'malformed_credentials' };

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** Reads `Authorization: Bearer <token>` (RFC 6750). */
export function readBearer(header: string | undefined): BearerResult {
  if (header === undefined || header === '') return { ok: false, reason: 'missing_credentials' };
  const match = BEARER.exec(header);
  if (!match?.[1]) return { ok: false, reason: 'malformed_credentials' };
  return { ok: true, token: match[1] };
}

/** The challenge of every 401 that does not give its own. */
const BEARER_CHALLENGE = 'Bearer realm="akm"';

/** Writes an RFC 9457 problem+json answer. */
export function sendProblem(
  res: Response,
  code: ErrorCode,
  detail: string,
  extra: { fields?: AppError['fields']; headers?: Record<string, string> } = {},
): void {
  const status = statusFor(code);
  for (const [name, value] of Object.entries(extra.headers ?? {})) res.setHeader(name, value);
  // RFC 7235: a 401 names the scheme it wants. Here, not at each throw site, since the status
  // comes from the code; a caller may still give a more precise challenge (RFC 6750 `error=`).
  if (status === 401 && !res.hasHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', BEARER_CHALLENGE);
  const problem: Problem = {
    type: `https://akm.dev/problems/${code.replaceAll('_', '-')}`,
    title: code.replaceAll('_', ' '),
    status,
    code,
    detail,
    requestId: requestIdOf(res),
    ...(extra.fields ? { errors: extra.fields } : {}),
  };
  res.status(status).type('application/problem+json').json(problem);
}

/** Answers 404 `not_found` for any route nobody handled. */
export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, 'not_found', `no route for ${req.method} ${req.path}`);
};

/**
 * The last middleware: an {@link AppError} becomes its problem; anything else is logged in
 * full and answered with a bare 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) return;
    if (isAppError(err)) {
      sendProblem(res, err.code, err.message, { fields: err.fields, headers: err.headers });
      return;
    }
    const status = (err as { status?: number }).status;
    if (status === 413) return sendProblem(res, 'payload_too_large', 'request too large');
    if (status === 400) return sendProblem(res, 'bad_request', 'bad request');
    (req.log ?? logger).error({ err, requestId: requestIdOf(res) }, 'unhandled error');
    sendProblem(res, 'internal', 'internal error');
  };
}

/** A listening HTTP server and how to stop it. */
export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes. */
  stop(graceMs?: number): Promise<void>;
}

/** Listens on `port` (0 for a free one) and returns its URL and a graceful `stop`. */
export async function listen(app: Express, port: number, host = '127.0.0.1'): Promise<RunningServer> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        // Keep-alive sockets that finish their last request during the grace period are idle
        // from then on: close them as they get there rather than waiting out the grace.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        timer.unref();
        idle.unref();
        server.close(() => {
          clearTimeout(timer);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
