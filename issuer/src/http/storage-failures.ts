/**
 * Turns a failure of the issuer's store (disk full, read-only, locked past the busy timeout, I/O
 * error) into 503 `storage_failed`, logged once with its code, so that a client may retry and an
 * operator sees why; any other error goes on to the generic handler. Which errors are storage
 * failures is the store's knowledge: it is passed in.
 */
import type { ErrorRequestHandler } from 'express';
import { AppError, type Logger } from '@akm/common';

/** Tells a failure of the store itself from a bug; it carries the store's error code. */
export type StorageFailureTest = (err: unknown) => err is Error & { code: string };

/** The error middleware that maps storage failures; mount it before the generic error handler. */
export function storageFailures(logger: Logger, isStorageFailure: StorageFailureTest): ErrorRequestHandler {
  return (err, req, _res, next) => {
    if (!isStorageFailure(err)) return next(err);
    (req.log ?? logger).error({ code: err.code, err: err.message }, 'storage failed');
    next(new AppError('storage_failed', 'the issuer cannot use its database right now; retry later', { cause: err }));
  };
}
