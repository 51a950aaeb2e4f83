/**
 * Which store failures mean "the store cannot be used right now" (disk full, read-only or
 * missing directory, locked past the busy timeout, I/O error), told apart by the error's `code`
 * (better-sqlite3's `SqliteError.code`, extended codes included), never by its message.
 */
import { accessSync, constants } from 'node:fs';
import { StartupError } from '@akm/common';

const STORAGE_CODES = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_PERM',
  'SQLITE_PROTOCOL',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'STORE_UNAVAILABLE',
];

/**
 * The database server cannot be used right now (refused, reset, restarting, out of connections):
 * answered 503 `storage_failed` like a full disk. `cause` is the client's error.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(cause: Error) {
    super(`database unavailable: ${cause.message}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** True when `err` is a failure of the store itself (SQLite, or the database server) rather than a bug in a statement. */
export function isStorageFailure(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && STORAGE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
}

/** The database of a data directory could not be opened or migrated. Exit code 73 (EX_CANTCREAT). */
export class DataDirError extends StartupError {
  constructor(
    readonly dataDir: string,
    cause: Error & { code: string },
  ) {
    super(`AKM_DATA_DIR: cannot use the database in ${dataDir}: ${whyNotWritable(dataDir) ?? cause.message} (${cause.code})`, 73, { cause });
    this.name = 'DataDirError';
  }
}

/** Why `dir` cannot be written to, in words, or undefined when it can. */
function whyNotWritable(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'the directory is on a read-only file system';
    if (code === 'EACCES' || code === 'EPERM') return 'the directory is not writable by this user';
    if (code === 'ENOENT') return 'the directory does not exist';
    return `the directory is not writable (${code})`;
  }
}
