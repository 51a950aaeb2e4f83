/**
 * The one error body on the wire (RFC 9457 problem+json) as a zod schema: what `sendProblem`
 * writes and what the OpenAPI documents of both services describe.
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';

/** One invalid input field of a `validation_failed` problem. */
export const fieldIssueSchema = z
  .object({
    field: z.string().meta({ description: 'Dotted path of the field, e.g. `rateLimit` or `meta.team`; `(body)` for the whole body.' }),
    message: z.string(),
  })
  .meta({ id: 'FieldIssue' });

/** An RFC 9457 problem as akm answers it. */
export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'A URI naming the problem, `https://akm.dev/problems/<code>`.' }),
    title: z.string().meta({ description: 'The code in words.' }),
    status: z.number().int().meta({ description: 'The HTTP status.' }),
    code: z.enum(ERROR_CODES as [string, ...string[]]).meta({ description: 'Stable code: map errors by it, never by the text.' }),
    detail: z.string().meta({ description: 'What went wrong, in plain words for people.' }),
    requestId: z.string().meta({ description: 'The request id, as in `X-Request-Id` and the logs.' }),
    errors: z.array(fieldIssueSchema).optional().meta({ description: 'With `validation_failed`: each invalid field.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

/** A problem body. */
export type Problem = z.infer<typeof problemSchema>;
