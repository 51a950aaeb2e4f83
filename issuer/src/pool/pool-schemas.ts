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
