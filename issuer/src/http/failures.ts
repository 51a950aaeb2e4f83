/**
 * Turns a domain failure into the error the HTTP layer answers with.
 */
import { AppError } from '@akm/common';
import type { KeyFailure } from '../domain/key-service.js';

/** Throws the {@link AppError} of a domain failure. */
export function failWith(failure: KeyFailure): never {
  if (failure.code === 'validation_failed') {
    throw new AppError('validation_failed', `${failure.field}: ${failure.message}`, {
      fields: [{ field: failure.field, message: failure.message }],
    });
  }
  throw new AppError(failure.code, failure.message);
}
