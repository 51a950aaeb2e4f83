/**
 * Request shapes of the key endpoints. Unknown fields are refused, so a typo never passes
 * silently.
 */
import { z } from 'zod';
import { DEFAULT_KEY_SCOPES, MAX_KEY_SCOPES, ROLES, SCOPE_PATTERN, creditsSchema, rateLimitsSchema } from '@akm/common';
import { cursorParam } from './cursors.js';

/** Who owns a key: a user name or a service id. */
export const ownerSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._@:+-]+$/, 'letters, digits and . _ @ : + - only');

/** Requests per minute. */
const rateLimit = z.number().int().min(1).max(1_000_000);
/** `rateLimit` is shorthand for one limit: the two together are ambiguous. */
function oneWayToLimit(b: { rateLimit?: number | undefined; limits?: unknown }): boolean {
  return b.rateLimit === undefined || b.limits === undefined;
}

/** A key's scopes: each `prices:read`-like, no repeats. */
export const scopesSchema = z
  .array(z.string().regex(SCOPE_PATTERN, 'a scope is 1-64 letters, digits and . _ : / -, starting with a letter or digit'))
  .max(MAX_KEY_SCOPES)
  .refine((s) => new Set(s).size === s.length, 'each scope once');
/** A date and time, ISO 8601 with an offset or `Z`. */
export const isoDate = z.iso.datetime({ offset: true });
const metaValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

/** What a new key is, besides its owner and role. */
const newKeyFields = {
  rateLimit: rateLimit.optional(),
  limits: rateLimitsSchema.optional(),
  credits: creditsSchema.optional(),
  ttl: z.number().int().positive().optional(),
  expiresAt: isoDate.optional(),
  name: z.string().min(1).max(100).optional(),
  meta: z
    .record(z.string().min(1).max(64), metaValue)
    .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries')
    .optional(),
};

const oneLifetime = {
  message: 'give either ttl or expiresAt, not both',
  path: ['expiresAt'],
};
const eitherLifetime = (b: { ttl?: number | undefined; expiresAt?: string | undefined }) => b.ttl === undefined || b.expiresAt === undefined;

/** Body of `POST /admin/keys`. */
export const issueKeyBody = z
  .strictObject({
    sub: ownerSchema,
    role: z.enum(ROLES).default('user'),
    ...newKeyFields,
    scopes: scopesSchema.default([...DEFAULT_KEY_SCOPES]),
  })
  .refine(eitherLifetime, oneLifetime)
  .refine(oneWayToLimit, { message: 'give either rateLimit or limits, not both', path: ['limits'] });

/**
 * Body of `POST /me/keys`: a user's own key, within their key policy (owner: the user; role:
 * user; scopes, rate limit and lifetime default to their policy's).
 */
export const ownKeyBody = z
  .strictObject({ ...newKeyFields, scopes: scopesSchema.optional() })
  .refine(eitherLifetime, oneLifetime)
  .refine(oneWayToLimit, { message: 'give either rateLimit or limits, not both', path: ['limits'] });

/** Body of `PATCH /admin/keys/:id`. */
export const updateKeyBody = z
  .strictObject({
    rateLimit: rateLimit.optional(),
    limits: rateLimitsSchema.optional(),
    /** What is left from now (a top-up); null removes the credits. */
    credits: creditsSchema.nullable().optional(),
    /** A new lifetime in seconds from now; or {@link expiresAt}. */
    ttl: z.number().int().positive().optional(),
    expiresAt: isoDate.optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .refine(eitherLifetime, oneLifetime)
  .refine(oneWayToLimit, { message: 'give either rateLimit or limits, not both', path: ['limits'] })
  .refine(
    (b) =>
      b.rateLimit !== undefined || b.limits !== undefined || b.credits !== undefined || b.ttl !== undefined || b.expiresAt !== undefined || b.status !== undefined,
    { message: 'give at least one of rateLimit, limits, credits, ttl, expiresAt, status' },
  );

/** Body of `POST /admin/keys/:id/roll` and `POST /me/keys/:id/roll`. */
export const rollKeyBody = z.strictObject({
  graceSeconds: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'How long the old key keeps working, seconds (0: refused at once); at most 7 days, and never past its own expiry.', example: 3600 }),
});

/** A list position that is a positive sequence number (keys, a key's events). */
export const sequenceCursor = cursorParam((decoded) => {
  const n = Number(decoded);
  return /^[0-9]+$/.test(decoded) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
});

/** Query of `GET /admin/keys`. */
export const listKeysQuery = z.strictObject({
  sub: ownerSchema.optional(),
  status: z.enum(['active', 'disabled', 'revoked', 'expired']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: sequenceCursor.optional(),
});

/** Query of `GET /me/keys`. */
export const myKeysQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: sequenceCursor.optional(),
});

/** Seconds since epoch of an ISO 8601 date. */
export function toSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
