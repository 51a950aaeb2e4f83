/**
 * Shapes of the issuer's answers. The views are typed by these and the OpenAPI document is
 * built from them, so what the API answers and what it documents are one thing.
 */
import { z } from 'zod';
import { KEY_EVENT_TYPES, KEY_STATUSES, ROLES, USAGE_OUTCOMES, creditsSchema, rateLimitSpecSchema } from '@akm/common';
import { keyPolicySchema } from './user-schemas.js';

const time = (description: string) => z.iso.datetime().meta({ description: `${description}, RFC 3339.` });

/** A key's metadata as the API shows it (never the key string, except once at creation). */
export const keyViewSchema = z
  .object({
    id: z.string().meta({ description: 'The key id, also its `jti` and its subject on the key stream.' }),
    sub: z.string().meta({ description: 'Owner of the key.' }),
    ownerId: z
      .string()
      .nullable()
      .meta({ description: 'Id of the user `sub` named when the key was issued; null for a key of no user (a service). Self-service goes by it.' }),
    role: z.enum(ROLES),
    name: z.string().nullable(),
    meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
    rateLimit: z.number().int().meta({ description: "Requests per minute of a key with one limit (the first limit's count otherwise)." }),
    limits: z.array(rateLimitSpecSchema).meta({ description: 'Every limit of the key: a request is served only if all allow it, and counts against all.' }),
    scopes: z.array(z.string()).meta({ description: 'What the key may do besides its role (its signed `scope` claim), fixed when issued.' }),
    credits: z
      .object({
        granted: z.number().int().meta({ description: 'Credits granted at `grantedAt` (what is left now: `/key/info` or `/v1/verify` of a verifier).' }),
        grantedAt: time('When the credits were granted (created or topped up)'),
        refill: creditsSchema.shape.refill,
      })
      .nullable()
      .meta({ description: 'Requests the key may make in all, spent across every verifier; null: unlimited.' }),
    expiresAt: time('When the key expires (the stored expiry, which verifiers honour over the signed `exp`)'),
    createdAt: time('When the key was issued'),
    updatedAt: time('When the key last changed'),
    status: z
      .enum(['active', 'disabled', 'revoked', 'expired'])
      .meta({ description: '`expired` for an active key past its expiry; `revoked` also for a rolled key past its `revokeAt`.' }),
    revokeAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'When a rolled key stops working (refused as `key_revoked` from then on, on every verifier); null for a key never rolled.' }),
    rolledTo: z.string().nullable().meta({ description: 'The key that replaced this one in a roll.' }),
    rolledFrom: z.string().nullable().meta({ description: 'The key this one replaced in a roll.' }),
  })
  .meta({ id: 'Key' });

/** `POST /admin/keys`: the key's metadata and, this once, the key string. */
export const createdKeySchema = keyViewSchema
  .extend({ key: z.string().meta({ description: 'The API key string (a JWS, see docs/key-format.md). Shown this once.' }) })
  .meta({ id: 'CreatedKey' });

/** A page of keys, newest first. */
export const keyPageSchema = z
  .object({
    items: z.array(keyViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .meta({ id: 'KeyPage' });

/** A user as the API shows it (never the password hash). */
export const userViewSchema = z
  .object({
    id: z.string().meta({ description: 'Stable id of the user, never reused: the keys issued to the user belong to it.' }),
    username: z.string(),
    role: z.enum(ROLES),
    status: z.enum(['active', 'disabled']),
    createdAt: time('When the user was created'),
    updatedAt: time('When the user last changed'),
    keyPolicy: keyPolicySchema
      .nullable()
      .meta({ description: 'Within what bounds the user creates keys of their own (`POST /me/keys`); null: they do not, an admin issues their keys.' }),
  })
  .meta({ id: 'User' });

/** A page of users, by name. */
export const userPageSchema = z
  .object({
    items: z.array(userViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .meta({ id: 'UserPage' });

/** `POST /auth/login`. */
export const signInSchema = z
  .object({
    token: z.string().meta({ description: 'The sign-in token (typ `akm-session+jwt`, aud `akm-issuer`); never an API key.' }),
    tokenType: z.literal('Bearer'),
    expiresAt: time('When the sign-in ends'),
    username: z.string(),
    role: z.enum(ROLES),
  })
  .meta({ id: 'SignIn' });

/** The issuer's public keys (RFC 7517). */
export const jwksSchema = z
  .object({
    keys: z.array(
      z
        .object({
          kty: z.literal('OKP'),
          crv: z.literal('Ed25519'),
          x: z.string(),
          kid: z.string().meta({ description: 'RFC 7638 thumbprint of the key.' }),
          alg: z.literal('EdDSA'),
          use: z.literal('sig'),
        })
        .loose(),
    ),
  })
  .meta({ id: 'Jwks' });

/** `POST /admin/signing-keys/rotate`. */
export const rotatedSchema = z
  .object({
    kid: z.string().meta({ description: 'The new current signing key (it was the published next key).' }),
    next: z.string().meta({ description: 'The next signing key, published in the JWKS now and used from the following rotation.' }),
  })
  .meta({ id: 'Rotated' });

/** `GET /healthz`. */
export const issuerHealthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'IssuerHealth' });

/** `GET /readyz` (200 ready, 503 not). */
export const issuerReadinessSchema = z
  .object({
    status: z
      .enum(['ready', 'degraded', 'not_ready'])
      .meta({ description: '`not_ready` (503) only when a required dependency is down; `degraded` (200) when another is.' }),
    dependencies: z.object({
      database: z
        .object({ kind: z.enum(['sqlite', 'postgres']), state: z.enum(['ok', 'unavailable']), required: z.literal(true) })
        .meta({ description: 'SQLite (embedded) or PostgreSQL (`DATABASE_URL`): required.' }),
      eventBus: z
        .object({ state: z.enum(['connected', 'disconnected', 'in-process']), required: z.literal(false) })
        .meta({ description: 'NATS: not required, the outbox keeps the events until it is back.' }),
      poolStore: z
        .object({ kind: z.enum(['redis', 'sqlite', 'postgres']), state: z.enum(['ok', 'unavailable']), required: z.literal(false) })
        .meta({ description: 'Where the token pool lives: not required, only the pool routes answer 503 without it.' }),
    }),
    outboxBacklog: z.number().int().nullable().meta({ description: 'Events not yet acknowledged by JetStream.' }),
  })
  .meta({ id: 'IssuerReadiness' });

const counts = Object.fromEntries(
  USAGE_OUTCOMES.map((o) => [o, z.number().int().nonnegative()]),
) as Record<(typeof USAGE_OUTCOMES)[number], z.ZodNumber>;
const countsDescription = `Requests by outcome: ${USAGE_OUTCOMES.map((o) => `\`${o}\``).join(', ')}.`;

/** A key's usage per period (`GET …/keys/{id}/usage`). */
export const keyUsageSchema = z
  .object({
    keyId: z.string(),
    granularity: z.enum(['minute', 'hour', 'day']),
    from: time('Window start'),
    to: time('Window end (exclusive)'),
    items: z.array(z.object({ at: time('Start of the period'), ...counts }).meta({ description: countsDescription })),
    totals: z.object(counts).meta({ description: countsDescription }),
  })
  .meta({ id: 'KeyUsage' });

/** The busiest keys of a window (`GET …/usage/top`). */
export const topUsageSchema = z
  .object({
    by: z.enum(['served', 'rate_limited']),
    from: time('Window start'),
    to: time('Window end'),
    items: z.array(
      z.object({ id: z.string(), sub: z.string(), name: z.string().nullable(), status: keyViewSchema.shape.status, ...counts }),
    ),
  })
  .meta({ id: 'TopUsage' });

/** A page of a key's events, newest first (`GET …/keys/{id}/events`). */
export const keyEventPageSchema = z
  .object({
    items: z.array(
      z
        .object({
          id: z.string(),
          type: z.enum(KEY_EVENT_TYPES),
          at: time('When the change happened'),
          version: z.number().int(),
          status: z.enum(KEY_STATUSES),
          role: z.enum(ROLES),
          rateLimit: z.number().int().meta({ description: "Requests per minute after the change (the first limit's count)." }),
          limits: z.array(rateLimitSpecSchema).meta({ description: 'Every limit after the change.' }),
          expiresAt: time('The expiry after the change'),
          requestId: z.string().nullable(),
        })
        .meta({ id: 'KeyEventView' }),
    ),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
  })
  .meta({ id: 'KeyEventPage' });
