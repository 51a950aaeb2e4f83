/**
 * The verifier service's OpenAPI 3.1 document, built from the zod schemas its routes validate
 * with and its answers are typed by. Served at `/openapi.json`; `npm run openapi` writes it to
 * `docs/openapi/verifier.json`.
 */
import { z } from 'zod';
import { buildOpenApiDocument, type ApiHeader, type ApiOperation, type ErrorCode } from '@akm/common';
import { forwardAuthAnswer, forwardAuthQuery } from '../middleware/forward-auth-schemas.js';
import { priceQuery } from './price-route.js';
import {
  healthSchema,
  jsonObjectSchema,
  keyInfoSchema,
  readinessSchema,
  readySchema,
  tokenInfoSchema,
} from './service-schemas.js';
import { verifyAnswer, verifyBody } from '../middleware/verify-schemas.js';

const KEY_REFUSALS: readonly ErrorCode[] = [
  'missing_credentials',
  'malformed_credentials',
  'invalid_key',
  'key_expired',
  'key_not_yet_valid',
  'key_revoked',
  'key_disabled',
  'unavailable',
];

const RATE_HEADERS: Record<string, ApiHeader> = {
  'RateLimit-Policy': { description: 'The key\'s quota: `"default";q=<requests>;w=60`.' },
  RateLimit: { description: 'What is left: `"default";r=<remaining>;t=<seconds to reset>`.' },
};
const REFUSAL_HEADERS: Record<number, Record<string, ApiHeader>> = {
  401: { 'WWW-Authenticate': { description: 'RFC 6750 challenge: `Bearer realm="akm"`, with `error="invalid_token"` for a key that cannot be used.' } },
  403: {
    ...RATE_HEADERS,
    'WWW-Authenticate': {
      description: 'With `insufficient_scope` (RFC 6750): `Bearer realm="akm", error="insufficient_scope", scope="<the scopes the route requires>"`.',
    },
  },
  429: {
    ...RATE_HEADERS,
    'Retry-After': {
      description: 'Seconds until the key may be used again (with `credits_exhausted`, only when a refill is due: until it).',
      schema: z.string().regex(/^\d+$/),
    },
  },
};

/** The problems of a route behind `protect()` with these options. */
function guarded(options: { roles?: boolean; scopes?: boolean; consume?: boolean }): readonly ErrorCode[] {
  return [
    ...KEY_REFUSALS,
    ...(options.consume === false ? [] : (['rate_limited', 'credits_exhausted'] as const)),
    ...(options.roles ? (['forbidden'] as const) : []),
    ...(options.scopes ? (['insufficient_scope'] as const) : []),
  ];
}

const OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    path: '/auth',
    operationId: 'forwardAuth',
    summary: 'Forward auth for gateways (any method)',
    description:
      'The check nginx `auth_request`, Traefik ForwardAuth and Envoy `ext_authz` delegate to. Any HTTP method is ' +
      'accepted (gateways forward the one they got), and so is any path under `/auth/` (Envoy `ext_authz` appends the ' +
      'request\'s path and query to its `path_prefix`; there the query is ignored). The same decision as a protected route: signature, key state ' +
      'from the stream, rate limit counted once, role. 200 names the key in `X-Akm-Key-Id`, `X-Akm-Sub`, `X-Akm-Role`.',
    tags: ['gateway'],
    security: ['apiKey'],
    query: forwardAuthQuery,
    responses: {
      200: {
        description: 'The key may be served; copy the `X-Akm-*` headers onto the request for the upstream.',
        schema: forwardAuthAnswer,
        headers: {
          'X-Akm-Key-Id': { description: 'The key id.' },
          'X-Akm-Sub': { description: "The key's owner." },
          'X-Akm-Role': { description: "The key's role." },
          'X-Akm-Scope': { description: "The key's scopes, space-delimited." },
          ...RATE_HEADERS,
        },
      },
    },
    problems: [...guarded({ roles: true, scopes: true }), 'validation_failed'],
    problemHeaders: REFUSAL_HEADERS,
  },
  {
    method: 'post',
    path: '/v1/verify',
    operationId: 'verifyKey',
    summary: 'Ask whether a key may be served',
    description:
      'For a service that prefers to ask. 200 means the question was answered, whatever the answer. Counts against ' +
      "the key's limit unless `consume` is false. Answers only what the key string proves: a string the issuer did " +
      'not sign is `invalid_key`, with nothing about the key it names.',
    tags: ['verify'],
    body: verifyBody,
    responses: { 200: { description: 'The answer.', schema: verifyAnswer } },
    problems: ['validation_failed', 'malformed_json', 'unavailable'],
  },
  {
    method: 'get',
    path: '/price',
    operationId: 'getPrice',
    summary: 'Token information (a demo of a protected route; the key needs the scope `prices:read`)',
    tags: ['demo'],
    security: ['apiKey'],
    query: priceQuery,
    responses: { 200: { description: 'The token.', schema: tokenInfoSchema, headers: RATE_HEADERS } },
    problems: [...guarded({ scopes: true }), 'validation_failed', 'not_found'],
    problemHeaders: { ...REFUSAL_HEADERS, 404: RATE_HEADERS },
  },
  {
    method: 'get',
    path: '/key/info',
    operationId: 'getKeyInfo',
    summary: "The caller's own plan (does not count against the limit)",
    tags: ['keys'],
    security: ['apiKey'],
    responses: { 200: { description: 'The plan and the current window.', schema: keyInfoSchema, headers: RATE_HEADERS } },
    problems: guarded({ consume: false }),
    problemHeaders: REFUSAL_HEADERS,
  },
  {
    method: 'get',
    path: '/admin/verifier',
    operationId: 'getVerifierReport',
    summary: 'Readiness report, for an admin key',
    tags: ['operations'],
    security: ['apiKey'],
    responses: { 200: { description: 'The report.', schema: readinessSchema, headers: RATE_HEADERS } },
    problems: guarded({ roles: true }),
    problemHeaders: REFUSAL_HEADERS,
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'The process answers',
    tags: ['operations'],
    responses: { 200: { description: 'Alive.', schema: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    summary: 'Replayed and not too stale',
    tags: ['operations'],
    responses: { 200: { description: 'Ready.', schema: readySchema } },
    problems: ['unavailable'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    responses: { 200: { description: 'Prometheus text format.', schema: z.string(), contentType: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tags: ['operations'],
    responses: { 200: { description: 'OpenAPI 3.1.', schema: jsonObjectSchema } },
  },
];

/** The verifier service's OpenAPI document. */
export function verifierOpenApi(version: string): Record<string, unknown> {
  return buildOpenApiDocument(
    {
      title: 'akm verifier',
      version,
      description:
        'Checks akm API keys offline: signature against the issuer\'s JWKS, revocations and overrides from the key ' +
        'stream, limits counted in Redis. Every error is RFC 9457 problem+json with a stable `code`.',
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (akm-key+jwt)', description: 'An akm API key.' },
      },
    },
    OPERATIONS,
  );
}

