/**
 * CPU time a process has used (user + system, all its threads), read from `/proc/<pid>/stat` on
 * Linux: the server's CPU time per request is a figure that other load on the machine barely
 * moves, unlike throughput.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc` times (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds used so far by `pid`, or undefined where `/proc` cannot tell. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Starts measuring `pid`; the returned function gives the CPU seconds used since. */
export function startCpuMeter(pid: number | undefined): () => number | undefined {
  const before = cpuSecondsOf(pid);
  return () => {
    const after = cpuSecondsOf(pid);
    return before === undefined || after === undefined ? undefined : after - before;
  };
}
