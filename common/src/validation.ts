/**
 * Turns zod validation failures into `validation_failed` problems that name each field.
 */
import type { z } from 'zod';
import { AppError, type FieldIssue } from './errors.js';

/** Lists the invalid fields of a zod error. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = [...issue.path.map(String), ...(keys.length === 1 ? keys : [])].join('.');
    return { field: path || '(body)', message: issue.message };
  });
}

/**
 * Parses `input` with `schema`.
 * @throws AppError `validation_failed` naming every invalid field.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  if (input === undefined) {
    // No body at all: say what to send rather than "expected object, received undefined".
    const message = 'a JSON body is required, sent with Content-Type: application/json';
    throw new AppError('validation_failed', `invalid ${what}: ${message}`, { fields: [{ field: '(body)', message }] });
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldIssues(result.error);
  const named = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  throw new AppError('validation_failed', `invalid ${what}: ${named}`, { fields });
}
