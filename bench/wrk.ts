/**
 * Load with wrk (the Debian package, a C load generator): it spends less CPU per request than
 * autocannon, so on a small shared machine it leaves the server under test more of the cores.
 */
import { execFile } from 'node:child_process';

/** What one wrk run measured. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  responses: number;
  /** Non-2xx/3xx answers plus socket errors. */
  failures: number;
}

/** Options of {@link runWrk}. */
export interface WrkOptions {
  url: string;
  path: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

/** Whether `wrk` is on the PATH (`apt-get install -y wrk`). */
export function wrkAvailable(): Promise<boolean> {
  return new Promise((resolve) => execFile('wrk', ['--version'], (err) => resolve(!err || (err as { code?: unknown }).code === 1)));
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(output: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
  return match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
}

/** Runs wrk with one thread (the server gets the other core) and parses its report. */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationS}s`, '--latency'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(options.url + options.path);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (options.durationS + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}`));
      const requests = /^\s*(\d+) requests in/m.exec(stdout);
      const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      if (!requests || !rps) return reject(new Error(`wrk output not understood:\n${stdout}`));
      const failures = Number(non2xx?.[1] ?? 0) + (socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
      resolve({
        rps: Number(rps[1]) * (1 - Number(non2xx?.[1] ?? 0) / Number(requests[1])),
        p50Ms: latencyMs(stdout, '50'),
        p99Ms: latencyMs(stdout, '99'),
        responses: Number(requests[1]),
        failures,
      });
    });
  });
}
