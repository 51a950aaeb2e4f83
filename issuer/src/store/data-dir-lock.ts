/**
 * One issuer per SQLite data directory. SQLite cannot be shared by replicas (two issuers on one
 * file would run two outbox relays over the same rows), so an issuer holds `akm.lock` (its pid)
 * while it runs. A lock left by a process that is gone (SIGKILL, power loss) is taken over: only
 * a live holder refuses the start. Replicas share a PostgreSQL database instead (`DATABASE_URL`).
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '@akm/common';
import { DataDirError } from './storage-errors.js';

/** The data directory is held by another running issuer. Exit code 75 (EX_TEMPFAIL). */
export class DataDirLockedError extends StartupError {
  constructor(dataDir: string, pid: number) {
    super(
      `AKM_DATA_DIR: ${dataDir} is in use by another issuer (pid ${pid}); SQLite cannot be shared by replicas: stop it, or give this one its own AKM_DATA_DIR, or run replicas on PostgreSQL (DATABASE_URL)`,
      75,
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock. */
export interface DataDirLock {
  /** Removes the lock file (if it is still this lock). */
  release(): void;
}

/** Locks held by this process: a second issuer in the same process is refused too. */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of `dataDir` (created 0700 if missing), or throws {@link DataDirLockedError}, or
 * a {@link DataDirError} when the directory cannot hold the lock file (read-only, not writable, full).
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, 'akm.lock');
  if (heldHere.has(file)) throw new DataDirLockedError(dataDir, process.pid);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    createLockFile(dataDir, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'ENOSPC') {
      throw new DataDirError(dataDir, err as Error & { code: string });
    }
    throw err;
  }
  heldHere.add(file);
  return {
    release() {
      heldHere.delete(file);
      if (holderOf(file) === process.pid) rmSync(file, { force: true });
    },
  };
}

function createLockFile(dataDir: string, file: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        const pid = holderOf(file);
        if (pid !== undefined && isAlive(pid)) throw new DataDirLockedError(dataDir, pid);
        throw err;
      }
      const pid = holderOf(file);
      if (pid !== undefined && isAlive(pid)) throw new DataDirLockedError(dataDir, pid);
      // Stale: its holder is gone. Removed and created again with `wx`, so of two issuers
      // taking over the same stale lock at once, one wins and the other sees it live.
      rmSync(file, { force: true });
    }
  }
}
