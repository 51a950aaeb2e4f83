/**
 * Response shapes of the verifier service's own routes (`/price`, `/key/info`, operations). The
 * routes' answers are typed by these and the OpenAPI document is built from them.
 */
import { z } from 'zod';
import { KEY_STATUSES, ROLES, creditsSchema } from '@akm/common';

/** What the service knows about a token (`GET /price`). */
export const tokenInfoSchema = z
  .object({
    symbol: z.string(),
    name: z.string(),
    priceUsd: z.number().meta({ description: 'Price in US dollars.' }),
    change24hPct: z.number().meta({ description: 'Change over the last 24 hours, in percent.' }),
  })
  .meta({ id: 'TokenInfo' });

/** The caller's own plan (`GET /key/info`). */
export const keyInfoSchema = z
  .object({
    id: z.string().meta({ description: 'The key id (`jti`).' }),
    sub: z.string(),
    role: z.enum(ROLES),
    rateLimit: z.number().int().meta({ description: 'Requests per minute.' }),
    limits: z
      .array(
        z.object({
          name: z.string(),
          limit: z.number().int().meta({ description: 'Requests allowed per window.' }),
          windowSeconds: z.number().int().meta({ description: 'Length of the window, seconds.' }),
          remaining: z.number().int().meta({ description: 'Requests left in the current window.' }),
          resetAt: z.iso.datetime().meta({ description: 'When the current window resets, RFC 3339.' }),
        }),
      )
      .meta({ description: 'Every limit of the key and where it stands (a request must fit all).' }),
    scopes: z.array(z.string()).meta({ description: "The key's scopes (its signed `scope` claim)." }),
    credits: z
      .object({
        remaining: z.number().int().meta({ description: 'Requests left, across every verifier.' }),
        refill: creditsSchema.shape.refill,
        refillAt: z.iso.datetime().optional().meta({ description: 'When they are refilled next, RFC 3339.' }),
      })
      .nullable()
      .meta({ description: "The key's credits; null: unlimited." }),
    expiresAt: z.iso.datetime().meta({ description: 'RFC 3339, like every time in akm\'s HTTP APIs.' }),
    status: z.enum(KEY_STATUSES),
    remaining: z.number().int().meta({ description: 'Requests left in the window closest to refusing.' }),
    resetAt: z.iso.datetime().meta({ description: 'When the window closest to refusing resets, RFC 3339.' }),
  })
  .meta({ id: 'KeyInfo' });

/** `GET /healthz`. */
export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

const readinessFields = {
  ready: z.boolean(),
  replayed: z.boolean().meta({ description: 'The key stream was replayed since start.' }),
  connected: z.boolean().meta({ description: 'In touch with the key stream now.' }),
  stalenessSeconds: z.number().meta({ description: 'Seconds since the last contact with the key stream (0 while connected).' }),
  detail: z.string().optional().meta({ description: 'Why it is not ready.' }),
  rateLimits: z.enum(['shared', 'local']).optional().meta({ description: 'Where rate limits are counted now.' }),
};

/** `GET /admin/verifier`: the readiness report. */
export const readinessSchema = z.object(readinessFields).meta({ id: 'VerifierReadiness' });

/** `GET /readyz` when ready. */
export const readySchema = z.object({ status: z.literal('ready'), ...readinessFields }).meta({ id: 'VerifierReady' });

/** Any JSON object (the OpenAPI document itself). */
export const jsonObjectSchema = z.record(z.string(), z.unknown());
