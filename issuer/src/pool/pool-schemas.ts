/**
 * Request shapes of the pool endpoints. Unknown fields are refused, so a typo never passes
 * silently.
 */
import { z } from 'zod';
import { MAX_TOKENS_PER_REQUEST } from './pool-options.js';

/** Body of `POST /pool/tokens`. */
export const generateTokensBody = z.strictObject({
  count: z.number().int().min(1).max(MAX_TOKENS_PER_REQUEST),
});

/** The `:token` of a pool URL: what `generateTokens` makes, with room to spare. */
export const poolTokenParam = z.object({
  token: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
});

/** A pool token as the API shows it; times are RFC 3339. */
export const poolTokenViewSchema = z
  .object({
    token: z.string(),
    state: z.enum(['available', 'assigned']),
    assignedTo: z.string().nullable().meta({ description: 'Who holds it; null while available.' }),
    expiresAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: 'When the assignment is released unless unblocked or kept alive; null while available.' }),
    aliveUntil: z.iso.datetime().meta({ description: 'When the token is purged unless kept alive.' }),
  })
  .meta({ id: 'PoolToken' });

/** `POST /pool/tokens`: the new tokens. */
export const generatedTokensSchema = z.object({ tokens: z.array(z.string()) }).meta({ id: 'GeneratedTokens' });

/** `GET /pool/stats`. */
export const poolStatsSchema = z
  .object({ available: z.number().int(), assigned: z.number().int(), total: z.number().int() })
  .meta({ id: 'PoolStats' });
