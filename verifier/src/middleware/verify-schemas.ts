/**
 * Shapes of `POST /v1/verify`: the body it validates and the answers it gives. The route
 * validates with these and the OpenAPI document is built from them.
 */
import { z } from 'zod';
import { MAX_TOKEN_LENGTH, ROLES } from '@akm/common';

/** Body of `POST /v1/verify`. */
export const verifyBody = z
  .strictObject({
    key: z.string().min(1).max(MAX_TOKEN_LENGTH).meta({ description: 'The API key string, as a client presented it.' }),
    consume: z
      .boolean()
      .default(true)
      .meta({ description: "Whether this check counts against the key's rate limit. Default true." }),
  })
  .meta({ id: 'VerifyRequest' });

/** Codes of a key that may not be served, as `/v1/verify` names them. */
export const VERIFY_REFUSAL_CODES = [
  'invalid_key',
  'key_expired',
  'key_not_yet_valid',
  'key_revoked',
  'key_disabled',
  'rate_limited',
  'credits_exhausted',
] as const;

const windowFields = {
  limit: z.number().int().positive().meta({ description: 'The count of the limit closest to refusing (the refusing one when rate limited): requests per its window.' }),
  remaining: z.number().int().nonnegative().meta({ description: 'Requests left in that window.' }),
  reset: z.number().int().nonnegative().meta({ description: 'Seconds until that window resets.' }),
};

/** A key that may be served. */
export const verifyValid = z
  .object({
    valid: z.literal(true),
    keyId: z.string().meta({ description: 'The key id (`jti`).' }),
    sub: z.string().meta({ description: "The key's owner." }),
    role: z.enum(ROLES),
    scopes: z.array(z.string()).meta({ description: "The key's scopes (its signed `scope` claim)." }),
    expiresAt: z.iso.datetime().meta({ description: 'When the key expires now (its stored expiry), RFC 3339.' }),
    ...windowFields,
    limits: z
      .array(
        z.object({
          name: z.string(),
          limit: z.number().int().positive().meta({ description: 'Requests allowed per window.' }),
          windowSeconds: z.number().int().positive().meta({ description: 'Length of the window, seconds.' }),
          remaining: z.number().int().nonnegative().meta({ description: 'Requests left in the current window.' }),
          reset: z.number().int().nonnegative().meta({ description: 'Seconds until the current window resets.' }),
        }),
      )
      .meta({ description: 'Every limit of the key and where it stands (a request must fit all).' }),
    credits: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: 'With a key that has credits: requests left, across every verifier.' }),
  })
  .meta({ id: 'VerifyValid' });

/** A key that may not be served, and why: only what the key string itself proves. */
export const verifyInvalid = z
  .object({
    valid: z.literal(false),
    code: z.enum(VERIFY_REFUSAL_CODES),
    detail: z.string().meta({ description: 'Why, in plain words.' }),
    retryAfter: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: 'With `rate_limited`, and `credits_exhausted` when a refill is due: seconds until the key may be used again.' }),
    limit: windowFields.limit.optional(),
    remaining: windowFields.remaining.optional(),
    reset: windowFields.reset.optional(),
  })
  .meta({ id: 'VerifyInvalid' });

/** Answer of `POST /v1/verify` (200: the question was answered). */
export const verifyAnswer = z.discriminatedUnion('valid', [verifyValid, verifyInvalid]).meta({ id: 'VerifyAnswer' });

/** An answer of `POST /v1/verify`. */
export type VerifyAnswer = z.infer<typeof verifyAnswer>;
