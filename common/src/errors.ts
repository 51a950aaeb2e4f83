/**
 * The one error type of akm. Every expected failure that reaches the wire carries a stable
 * `code`; the HTTP status comes from {@link statusFor}, never from the throw site.
 */

/** Stable error codes, as they appear in the `code` member of a problem+json body. */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'malformed_json'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'headers_too_large'
  | 'not_found'
  | 'conflict'
  | 'missing_credentials'
  | 'malformed_credentials'
  | 'invalid_token'
  | 'invalid_key'
  | 'invalid_credentials'
  | 'key_expired'
  | 'key_not_yet_valid'
  | 'key_revoked'
  | 'key_disabled'
  | 'token_expired'
  | 'forbidden'
  | 'insufficient_scope'
  | 'policy_exceeded'
  | 'rate_limited'
  | 'credits_exhausted'
  | 'too_many_attempts'
  | 'pool_full'
  | 'pool_empty'
  | 'holder_limit'
  | 'not_assigned'
  | 'unavailable'
  | 'storage_failed'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  headers_too_large: 431,
  not_found: 404,
  conflict: 409,
  missing_credentials: 401,
  malformed_credentials: 400,
  invalid_token: 401,
  invalid_key: 401,
  invalid_credentials: 401,
  key_expired: 401,
  key_not_yet_valid: 401,
  key_revoked: 401,
  key_disabled: 401,
  token_expired: 401,
  forbidden: 403,
  insufficient_scope: 403,
  policy_exceeded: 403,
  rate_limited: 429,
  credits_exhausted: 429,
  too_many_attempts: 429,
  pool_full: 409,
  pool_empty: 404,
  holder_limit: 409,
  not_assigned: 409,
  unavailable: 503,
  storage_failed: 503,
  internal: 500,
};

/** Every error code, in the order of the table. */
export const ERROR_CODES = Object.keys(STATUS) as readonly ErrorCode[];

/** HTTP status for an error code: the single `code → status` table of akm. */
export function statusFor(code: ErrorCode): number {
  return STATUS[code];
}

/** One invalid input field, as listed in a `validation_failed` problem. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `rateLimit` or `meta.team`. */
  field: string;
  message: string;
}

/** Options of {@link AppError}. */
export interface AppErrorOptions {
  cause?: unknown;
  /** Invalid fields, for `validation_failed`. */
  fields?: FieldIssue[];
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

/**
 * An expected failure with a stable code. Thrown inside the HTTP layer (or returned as data by
 * the domain and converted there) and rendered as RFC 9457 problem+json.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldIssue[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.fields = options.fields;
    this.headers = options.headers;
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return statusFor(this.code);
  }
}

/** True when `value` is an {@link AppError}. */
export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
