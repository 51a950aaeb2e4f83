/**
 * A small tmpfs the fault suite can fill up or make read-only, for the issuer's data directory.
 * Mounting needs root (CAP_SYS_ADMIN), which the CI machine has; without it the case fails and
 * says so rather than pretending to test a full disk.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';

/** A mounted tmpfs. */
export interface Tmpfs {
  dir: string;
  /** Remounts it read-only (nothing may hold a file open for writing) or read-write. */
  remount(mode: 'ro' | 'rw'): void;
  /** Fills every free byte with a file; resolves to a function that frees it again. */
  fill(): () => void;
  unmount(): void;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
}

/** Mounts a tmpfs of `sizeKb` KiB on `dir` (created if needed). */
export function mountTmpfs(dir: string, sizeKb: number): Tmpfs {
  mkdirSync(dir, { recursive: true });
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  } catch (err) {
    throw new Error(`case 6 needs a tmpfs to fill up and make read-only, and mounting one needs root: ${(err as Error).message}`);
  }
  return {
    dir,
    remount: (mode) => run('mount', ['-o', `remount,${mode}`, dir]),
    fill() {
      const filler = `${dir}/filler`;
      // dd stops at "No space left on device", which is the point.
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { encoding: 'utf8' });
      return () => rmSync(filler, { force: true });
    },
    unmount: () => run('umount', ['-l', dir]),
  };
}
