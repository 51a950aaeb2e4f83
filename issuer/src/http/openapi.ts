/**
 * The issuer's OpenAPI 3.1 document, built from the zod schemas its routes validate with and
 * its views are typed by. Served at `/openapi.json`; `npm run openapi` writes it to
 * `docs/openapi/issuer.json`, from which `@akm/client` is generated.
 */
import { readFileSync } from 'node:fs';
import { Router } from 'express';
import { z } from 'zod';
import { buildOpenApiDocument, statusFor, type ApiHeader, type ApiOperation, type ErrorCode } from '@akm/common';
import { poolOperations } from '../pool/index.js';
import { issueKeyBody, listKeysQuery, myKeysQuery, ownKeyBody, rollKeyBody, updateKeyBody } from './key-schemas.js';
import {
  createdKeySchema,
  issuerHealthSchema,
  issuerReadinessSchema,
  jwksSchema,
  keyEventPageSchema,
  keyPageSchema,
  keyUsageSchema,
  keyViewSchema,
  rotatedSchema,
  signInSchema,
  topUsageSchema,
  userPageSchema,
  userViewSchema,
} from './response-schemas.js';
import { keyEventsQuery, keyUsageQuery, topUsageQuery } from './usage-schemas.js';
import { changePasswordBody, createUserBody, listUsersQuery, loginBody, logoutBody, updateUserBody } from './user-schemas.js';

const BEARER: readonly ErrorCode[] = ['missing_credentials', 'malformed_credentials'];
const SESSION: readonly ErrorCode[] = [...BEARER, 'invalid_token', 'token_expired'];
const ADMIN: readonly ErrorCode[] = [...SESSION, 'forbidden'];
const API_KEY: readonly ErrorCode[] = [...BEARER, 'invalid_key', 'key_not_yet_valid', 'key_revoked', 'key_expired'];
const CALLER: readonly ErrorCode[] = [...SESSION, 'invalid_key', 'key_not_yet_valid', 'key_revoked', 'key_expired', 'key_disabled'];

const keyId = z.object({ id: z.string().meta({ description: 'The key id.' }) });
const username = z.object({ username: z.string().meta({ description: 'The user name.' }) });
const admin = { security: ['session'] } as const;
const WWW_AUTHENTICATE: Record<number, Record<string, ApiHeader>> = {
  401: { 'WWW-Authenticate': { description: 'RFC 6750 challenge, `Bearer realm="akm"`.' } },
};
const key = { description: 'The key.', schema: keyViewSchema };
const user = { description: 'The user.', schema: userViewSchema };

const ROLL_DESCRIPTION =
  'Issues a new key (new id, same owner, role, limits, scopes, name and meta, the lifetime the old one was issued with; ' +
  '`rolledFrom` names the old key) and shows its string once. The old key keeps working for `graceSeconds` (0: not at all; ' +
  'never past its own expiry), then every verifier refuses it `401 key_revoked` by its own clock, with no further call. ' +
  'A revoked, disabled, expired or already rolled key cannot be rolled (409): a disabled key\'s replacement would undo the disabling.';

const OPERATIONS: ApiOperation[] = [
  // Keys
  {
    ...admin, tags: ['keys'], method: 'post', path: '/admin/keys', operationId: 'createKey', summary: 'Issue an API key (admin)',
    description:
      'Role defaults to user, rateLimit to 60 per minute (or give `limits`: up to 5 named windows, all must allow a request), ' +
      'scopes to `prices:read`, lifetime to 30 days (`ttl` in seconds, or `expiresAt`). The key string is shown this once. ' +
      'A key is never more than its owner: a `sub` naming a disabled user is 409 `conflict`, an admin key for anyone but an active admin user 400.',
    body: issueKeyBody,
    responses: { 201: { description: 'The key, with its string.', schema: createdKeySchema, headers: { Location: { description: '`/admin/keys/{id}`' } } } },
    problems: [...ADMIN, 'validation_failed', 'malformed_json', 'conflict'],
  },
  {
    ...admin, tags: ['keys'], method: 'get', path: '/admin/keys', operationId: 'listKeys', summary: 'List keys, newest first (admin)',
    query: listKeysQuery,
    responses: { 200: { description: 'A page of keys.', schema: keyPageSchema } },
    problems: [...ADMIN, 'validation_failed'],
  },
  {
    ...admin, tags: ['keys'], method: 'get', path: '/admin/keys/:id', operationId: 'getKey', summary: 'One key (admin)',
    params: keyId, responses: { 200: key }, problems: [...ADMIN, 'not_found'],
  },
  {
    ...admin, tags: ['keys'], method: 'patch', path: '/admin/keys/:id', operationId: 'updateKey', summary: 'Change a key\'s limit, expiry or status (admin)',
    description: 'Applies on every verifier without a new key. A revoked key cannot change (409), and a key is never enabled beyond its owner: not while its user is disabled, and an admin key only for an active admin user (409).',
    params: keyId, body: updateKeyBody, responses: { 200: key },
    problems: [...ADMIN, 'validation_failed', 'malformed_json', 'not_found', 'conflict'],
  },
  {
    ...admin, tags: ['keys'], method: 'post', path: '/admin/keys/:id/roll', operationId: 'rollKey', summary: 'Replace a key, the old one working for a grace period (admin)',
    description: ROLL_DESCRIPTION,
    params: keyId, body: rollKeyBody,
    responses: { 201: { description: 'The new key, with its string.', schema: createdKeySchema, headers: { Location: { description: '`/admin/keys/{id}` of the new key' } } } },
    problems: [...ADMIN, 'validation_failed', 'malformed_json', 'not_found', 'conflict'],
  },
  {
    ...admin, tags: ['keys'], method: 'delete', path: '/admin/keys/:id', operationId: 'revokeKey', summary: 'Revoke a key for good (admin)',
    params: keyId, responses: { 204: { description: 'Revoked.' } }, problems: [...ADMIN, 'not_found'],
  },
  {
    tags: ['keys'], security: ['apiKey'], method: 'post', path: '/key/disable', operationId: 'disableOwnKey', summary: 'Disable the API key that calls',
    responses: { 200: key }, problems: API_KEY,
  },
  // Sign-in, users, self-service
  {
    tags: ['users'], method: 'post', path: '/auth/login', operationId: 'signIn', summary: 'Sign in',
    description: 'A wrong name and a wrong password get the same 401. Too many failures per name or address: 429 with Retry-After, even with the right password.',
    body: loginBody,
    responses: { 200: { description: 'The sign-in token.', schema: signInSchema } },
    problems: ['validation_failed', 'malformed_json', 'invalid_credentials', 'too_many_attempts'],
    problemHeaders: { 429: { 'Retry-After': { description: 'Seconds until sign-in may be tried again.' } } },
  },
  {
    ...admin, tags: ['users'], method: 'post', path: '/admin/users', operationId: 'createUser', summary: 'Create a user (admin)',
    body: createUserBody,
    responses: { 201: { ...user, headers: { Location: { description: '`/admin/users/{username}`' } } } },
    problems: [...ADMIN, 'validation_failed', 'malformed_json', 'conflict'],
  },
  {
    ...admin, tags: ['users'], method: 'get', path: '/admin/users', operationId: 'listUsers', summary: 'List users by name (admin)',
    query: listUsersQuery, responses: { 200: { description: 'A page of users.', schema: userPageSchema } }, problems: [...ADMIN, 'validation_failed'],
  },
  {
    ...admin, tags: ['users'], method: 'get', path: '/admin/users/:username', operationId: 'getUser', summary: 'One user (admin)',
    params: username, responses: { 200: user }, problems: [...ADMIN, 'not_found'],
  },
  {
    ...admin, tags: ['users'], method: 'patch', path: '/admin/users/:username', operationId: 'updateUser', summary: 'Change a user\'s role, password, status or key policy (admin)',
    description:
      'Disabling a user disables all their keys. The last active admin cannot be demoted or disabled (409). ' +
      '`keyPolicy` lets the user create keys of their own within its bounds (`POST /me/keys`); null takes that away (their keys stay).',
    params: username, body: updateUserBody, responses: { 200: user },
    problems: [...ADMIN, 'validation_failed', 'malformed_json', 'not_found', 'conflict'],
  },
  {
    ...admin, tags: ['users'], method: 'delete', path: '/admin/users/:username', operationId: 'deleteUser', summary: 'Delete a user and revoke their keys (admin)',
    params: username, responses: { 204: { description: 'Deleted.' } }, problems: [...ADMIN, 'not_found', 'conflict'],
  },
  {
    ...admin, tags: ['users'], method: 'post', path: '/admin/users/:username/unlock', operationId: 'unlockUser',
    summary: 'Lift every sign-in lock on a user (admin)',
    description: 'Ends the brute-force blocks of this user name, from every address; a password reset does the same.',
    params: username, responses: { 204: { description: 'Unlocked.' } }, problems: [...ADMIN, 'not_found'],
  },
  {
    tags: ['users'], security: ['session'], method: 'post', path: '/auth/logout', operationId: 'signOut', summary: 'Sign out: end this sign-in token now',
    description: 'The token is refused from now on, until it would have expired. With `{"everywhere": true}`, every sign-in of the user ends (409 for the data directory\'s admin token, which belongs to no user).',
    body: logoutBody, bodyRequired: false,
    responses: { 204: { description: 'Signed out.' } },
    problems: [...SESSION, 'validation_failed', 'malformed_json', 'conflict'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'post', path: '/me/password', operationId: 'changeMyPassword', summary: 'Change one\'s own password, with the current one',
    description: 'Ends every earlier sign-in of the user, this one included; the answer is a new sign-in. A wrong current password is 400 naming `currentPassword` and counts as a failed sign-in.',
    body: changePasswordBody,
    responses: { 200: { description: 'A new sign-in token.', schema: signInSchema } },
    problems: [...SESSION, 'validation_failed', 'malformed_json', 'not_found', 'too_many_attempts'],
    problemHeaders: { 429: { 'Retry-After': { description: 'Seconds until a password may be tried again.' } } },
  },
  {
    tags: ['self-service'], security: ['session'], method: 'get', path: '/me', operationId: 'getMe', summary: 'The signed-in user',
    responses: { 200: user }, problems: [...SESSION, 'not_found'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'get', path: '/me/keys', operationId: 'listMyKeys', summary: 'The signed-in user\'s keys',
    query: myKeysQuery, responses: { 200: { description: 'A page of keys.', schema: keyPageSchema } }, problems: [...SESSION, 'validation_failed'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'post', path: '/me/keys', operationId: 'createMyKey', summary: 'Create a key of one\'s own, within one\'s key policy',
    description:
      'Only for a user an admin gave a key policy (`PATCH /admin/users/{username}` with `keyPolicy`); the key is the user\'s, role user. ' +
      'Rate limit, lifetime and scopes default to the policy\'s bounds (60 per minute or less, 30 days or less, the policy\'s scopes). ' +
      'Anything outside the policy — more keys than `maxKeys`, limits allowing more than `maxRateLimit` a minute, a lifetime over ' +
      '`maxTtlSeconds`, a scope not in `scopes` — and a user without a policy: 403 `policy_exceeded`, naming the bound.',
    body: ownKeyBody,
    responses: { 201: { description: 'The key, with its string.', schema: createdKeySchema, headers: { Location: { description: '`/me/keys/{id}`' } } } },
    problems: [...SESSION, 'validation_failed', 'malformed_json', 'policy_exceeded'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'delete', path: '/me/keys/:id', operationId: 'revokeMyKey', summary: 'Revoke one of the signed-in user\'s keys for good',
    description: 'Keys belong to a user id: anyone else\'s key is 404, like an unknown id.',
    params: keyId, responses: { 204: { description: 'Revoked.' } }, problems: [...SESSION, 'not_found'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'post', path: '/me/keys/:id/roll', operationId: 'rollMyKey', summary: 'Replace one of the signed-in user\'s keys, the old one working for a grace period',
    description: `${ROLL_DESCRIPTION} Only within a key policy (403 \`policy_exceeded\` without one); the new key lives at most the policy's \`maxTtlSeconds\`, and a roll may take the user one key over \`maxKeys\` (for the key it replaces, during its grace) and no further: rolling the new key while the old one still works is 403 \`policy_exceeded\`, naming the key. Keys belong to a user id: anyone else's key is 404, like an unknown id.`,
    params: keyId, body: rollKeyBody,
    responses: { 201: { description: 'The new key, with its string.', schema: createdKeySchema, headers: { Location: { description: '`/me/keys/{id}` of the new key' } } } },
    problems: [...SESSION, 'validation_failed', 'malformed_json', 'not_found', 'conflict', 'policy_exceeded'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'post', path: '/me/keys/:id/disable', operationId: 'disableMyKey', summary: 'Disable one of the signed-in user\'s keys',
    description: 'Keys belong to a user id: anyone else\'s key is 404, like an unknown id.',
    params: keyId, responses: { 200: key }, problems: [...SESSION, 'not_found', 'conflict'],
  },
  {
    tags: ['self-service'], security: ['session'], method: 'get', path: '/me/keys/:id', operationId: 'getMyKey', summary: 'One of the signed-in user\'s keys',
    description: 'Keys belong to a user id: anyone else\'s key is 404, like an unknown id.',
    params: keyId, responses: { 200: key }, problems: [...SESSION, 'not_found'],
  },
  ...activityOperations('/admin', 'admin', ADMIN, ''),
  ...activityOperations('/me', 'self-service', SESSION, 'My'),
  ...poolOperations({ admin: ADMIN, caller: CALLER }),
  // System
  {
    tags: ['operations'], method: 'get', path: '/healthz', operationId: 'getHealth', summary: 'The process answers',
    responses: { 200: { description: 'Alive.', schema: issuerHealthSchema } },
  },
  {
    tags: ['operations'], method: 'get', path: '/readyz', operationId: 'getReadiness', summary: 'Every dependency with its state',
    description: 'Only the database is required. The API works without NATS (the outbox keeps the events) and without Redis (only the pool routes answer 503): either down is `degraded`, still 200.',
    responses: {
      200: { description: 'Ready, or degraded.', schema: issuerReadinessSchema },
      503: { description: 'The database does not answer.', schema: issuerReadinessSchema },
    },
  },
  {
    tags: ['operations'], method: 'get', path: '/metrics', operationId: 'getMetrics', summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text format.', schema: z.string(), contentType: 'text/plain' } },
  },
  {
    tags: ['signing keys'], method: 'get', path: '/.well-known/jwks.json', operationId: 'getJwks', summary: 'The issuer\'s public keys',
    description: 'Every public key that may still have live tokens. See docs/key-format.md.',
    responses: { 200: { description: 'RFC 7517 key set.', schema: jwksSchema } },
  },
  {
    ...admin, tags: ['signing keys'], method: 'post', path: '/admin/signing-keys/rotate', operationId: 'rotateSigningKey', summary: 'Make a new signing key current (admin)',
    description: 'Promotes the published next key, so verifiers that fetched the JWKS since the last rotation already hold it, and publishes a new next key.',
    responses: { 201: { description: 'The new current key id and the new next one.', schema: rotatedSchema } }, problems: ADMIN,
  },
  {
    tags: ['operations'], method: 'get', path: '/openapi.json', operationId: 'getOpenApi', summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1.', schema: z.record(z.string(), z.unknown()) } },
  },
];

/**
 * A key's usage and events and the busiest keys: every key for an admin (`/admin/…`), the
 * signed-in user's own otherwise (`/me/…`, another's key 403).
 */
function activityOperations(prefix: string, tag: string, guard: readonly ErrorCode[], name: string): ApiOperation[] {
  const whose = name ? 'of the signed-in user\'s keys' : '(admin)';
  // Another user's key is 403 on /me; an admin sees every key.
  // A user's own keys only; anyone else's is 404 like an unknown id, as for an admin's unknown id.
  const ofKey: readonly ErrorCode[] = [...guard, 'validation_failed', 'not_found'];
  return [
    {
      tags: [tag], security: ['session'], method: 'get', path: `${prefix}/keys/:id/usage`, operationId: `get${name}KeyUsage`,
      summary: `A key's requests per period by outcome ${whose}`,
      description: 'Default window: the 24 hours before `to` (default now); default period: minute up to 2 h, hour up to 7 d, else day.',
      params: keyId, query: keyUsageQuery, responses: { 200: { description: 'The usage.', schema: keyUsageSchema } },
      problems: ofKey,
    },
    {
      tags: [tag], security: ['session'], method: 'get', path: `${prefix}/keys/:id/events`, operationId: `list${name}KeyEvents`,
      summary: `A key's changes, newest first ${whose}`,
      params: keyId, query: keyEventsQuery, responses: { 200: { description: 'A page of events.', schema: keyEventPageSchema } },
      problems: ofKey,
    },
    {
      tags: [tag], security: ['session'], method: 'get', path: `${prefix}/usage/top`, operationId: `list${name}TopKeys`,
      summary: `The busiest keys of a window ${whose}`,
      query: topUsageQuery, responses: { 200: { description: 'The keys, busiest first.', schema: topUsageSchema } },
      problems: [...guard, 'validation_failed'],
    },
  ];
}

/** Every operation that may answer 401 documents its challenge. */
const withChallenges = (ops: ApiOperation[]): ApiOperation[] =>
  ops.map((op) => (op.problems?.some((c) => statusFor(c) === 401) ? { ...op, problemHeaders: { ...WWW_AUTHENTICATE, ...op.problemHeaders } } : op));

/** The issuer's OpenAPI document. */
export function issuerOpenApi(version: string): Record<string, unknown> {
  return buildOpenApiDocument(
    {
      title: 'akm issuer',
      version,
      description:
        'Issues akm API keys (EdDSA-signed JWTs), signs users in, manages users and the token pool, and publishes every ' +
        'key change to the JetStream key stream. Every error is RFC 9457 problem+json with a stable `code`.',
      securitySchemes: {
        session: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (akm-session+jwt)', description: 'A sign-in token from `POST /auth/login`.' },
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (akm-key+jwt)', description: 'An akm API key.' },
      },
    },
    withChallenges(OPERATIONS),
  );
}

/** The `version` of `@akm/issuer` (its package.json sits two levels up from `src/http` and `dist/http`). */
export const ISSUER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** `GET /openapi.json`: the document, built once. */
export function createOpenApiRoutes(): Router {
  const document = issuerOpenApi(ISSUER_VERSION);
  return Router().get('/openapi.json', (_req, res) => {
    res.json(document);
  });
}
