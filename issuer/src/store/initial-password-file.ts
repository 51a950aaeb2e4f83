/**
 * The first admin's generated password as a file, `AKM_DATA_DIR/initial-admin-password`, mode
 * 0600 (the data directory itself is 0700), until the first sign-in with it.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InitialPasswordStore } from '../domain/initial-password.js';

/** Name of the file inside the data directory. */
export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/** The initial password file of a data directory. */
export function createInitialPasswordFile(dataDir: string): InitialPasswordStore {
  const path = join(dataDir, INITIAL_PASSWORD_FILE);
  return {
    location: path,
    read() {
      try {
        return readFileSync(path, 'utf8').trim() || undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    write(password) {
      // Written aside and renamed: a crash leaves the old file or the new one, never half of one.
      const temporary = `${path}.tmp`;
      writeFileSync(temporary, `${password}\n`, { mode: 0o600 });
      renameSync(temporary, path);
    },
    remove() {
      rmSync(path, { force: true });
    },
  };
}
