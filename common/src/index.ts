/**
 * `common`: what the issuer and the verifier share. Named exports only.
 */
export { AppError, ERROR_CODES, isAppError, statusFor } from './errors.js';
export type { AppErrorOptions, ErrorCode, FieldIssue } from './errors.js';
export {
  API_KEY_TYP,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  DEFAULT_KEY_SCOPES,
  KEY_STATUSES,
  MAX_KEY_SCOPES,
  ROLES,
  SCOPE_PATTERN,
  SESSION_AUDIENCE,
  SESSION_TYP,
  SIGNING_ALG,
  scopesOfClaim,
} from './tokens.js';
export type { ApiKeyClaims, KeyStatus, Role, SessionClaims } from './tokens.js';
export {
  DEFAULT_LIMIT_NAME,
  DEFAULT_WINDOW_SECONDS,
  MAX_LIMIT,
  MAX_RATE_LIMITS,
  MAX_WINDOW_SECONDS,
  MIN_WINDOW_SECONDS,
  CREDIT_INTERVALS,
  MAX_CREDITS,
  creditGrantSchema,
  creditPeriodEnd,
  creditPeriodOf,
  creditsSchema,
  defaultLimits,
  isDefaultLimits,
  rateLimitSpecSchema,
  rateLimitsSchema,
} from './rate-limits.js';
export type { CreditGrant, CreditInterval, CreditsInput, RateLimitSpec } from './rate-limits.js';
export {
  KEY_EVENT_TYPES,
  KEY_STREAM,
  KEY_SUBJECTS,
  KEY_SUBJECT_PREFIX,
  encodeKeyEvent,
  keyEventSchema,
  keySubject,
  parseKeyEvent,
} from './events.js';
export type { KeyEvent, KeyEventType, ParsedKeyEvent } from './events.js';
export type {
  KeyEventFeed,
  KeyEventFeedStatus,
  KeyEventHandler,
  KeyEventPublisher,
  KeyEventRejection,
  KeyEventRejectionHandler,
  KeyEventRejectionReason,
} from './key-bus.js';
export { createMemoryKeyBus } from './memory-key-bus.js';
export type { MemoryKeyBus } from './memory-key-bus.js';
export {
  USAGE_OUTCOMES,
  USAGE_STREAM,
  USAGE_SUBJECTS,
  USAGE_SUBJECT_PREFIX,
  encodeUsageReport,
  isUsageSource,
  parseUsageReport,
  usageReportSchema,
  usageSubject,
} from './usage.js';
export type { ParsedUsageReport, UsageCounts, UsageOutcome, UsageReport } from './usage.js';
export type { UsageFeed, UsageHandler, UsagePublisher } from './usage-bus.js';
export { createMemoryUsageBus } from './memory-usage-bus.js';
export type { MemoryUsageBus } from './memory-usage-bus.js';
export { applyStream, connectNats, connectNatsRetrying, ensureKeyStream, isNatsAuthError } from './nats.js';
export type { ConnectNatsOptions, KeyStreamOptions, NatsAuthOptions, NatsConnection, RetryingConnectOptions } from './nats.js';
export { connectionEnvProblems, connectionEnvShape, natsAuthFromEnv, optionalFileVar, redisTlsOptions } from './connection-env.js';
export type { ConnectionEnv } from './connection-env.js';
export { createLogger } from './logger.js';
export type { CreateLoggerOptions, Logger } from './logger.js';
export { addRequestLogFields } from './request-log.js';
export { runMain, runUntilSignal, StartupError } from './run-main.js';
export type { Stoppable } from './run-main.js';
export { checkPortsFree, PORT_UNAVAILABLE_EXIT_CODE } from './port-check.js';
export type { PortToCheck } from './port-check.js';
export { ConfigError, logLevelVar, optionalUrlVar, parseEnv, portVar, positiveIntVar, stringVar } from './config.js';
export {
  baseMiddleware,
  errorHandler,
  jsonBody,
  listen,
  notFoundHandler,
  readBearer,
  requestIdOf,
  sendProblem,
} from './http.js';
export type { BearerResult, RunningServer } from './http.js';
export { methodNotAllowedHandler } from './method-not-allowed.js';
export { fieldIssues, parseInput } from './validation.js';
export { fieldIssueSchema, problemSchema } from './problem-schema.js';
export type { Problem } from './problem-schema.js';
export { buildOpenApiDocument } from './openapi.js';
export type { ApiHeader, ApiInfo, ApiMethod, ApiOperation, ApiResponse } from './openapi.js';
export { trustProxyVar } from './trust-proxy.js';
export { metricsAccess, metricsTokenVar } from './metrics-access.js';
export type { MetricsAccessOptions } from './metrics-access.js';
export type { TrustProxy } from './trust-proxy.js';
export { checkApiKey, checkSession, MAX_TOKEN_LENGTH } from './jwt.js';
export type { CheckOptions, TokenCheck, TokenFailure } from './jwt.js';
