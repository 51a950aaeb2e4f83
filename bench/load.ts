/**
 * Runs HTTP load from a separate process (autocannon in `load-worker.ts`) and returns what it
 * measured: throughput of 2xx answers and per-response latency percentiles.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope } from './scope.js';
import type { LatencySummary } from './stats.js';

/** What the load generator is told to do. */
export interface LoadSpec {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  /** Path and query, e.g. `/price?symbol=BTC`. */
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** JSON body. */
  body?: unknown;
  /** A JSON file of key strings; each request carries the next one as `Authorization: Bearer`. */
  keysFile?: string;
  /** Concurrent connections (closed loop: each waits for its answer before the next request). */
  connections: number;
  /** Seconds to run (or `amount` requests). */
  durationS?: number;
  amount?: number;
  /** Requests per second across all connections (open loop); unlimited when omitted. */
  overallRate?: number;
  maxSamples?: number;
}

/** What one load run measured. */
export interface LoadResult {
  seconds: number;
  responses: number;
  /** 2xx answers. */
  ok: number;
  /** 2xx answers per second. */
  rps: number;
  /** Per-response latency in milliseconds (every status). */
  latency: LatencySummary;
  /** Answers by status code. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** Options of {@link runLoad}. */
export interface RunLoadOptions {
  scope: Scope;
  spec: LoadSpec;
}

/** Runs one load run in a child process and returns its result. */
export async function runLoad(options: RunLoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'akm-load-'));
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(options.spec));
  try {
    const child = options.scope.spawnNode({
      name: 'load generator',
      script: 'bench/load-worker.ts',
      args: [specFile],
      stdout: 'capture',
    });
    const code = await child.exited;
    const { stdout, stderr } = child.output();
    const line = stdout.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) {
      throw new Error(`load generator failed (exit ${code}): ${stderr.slice(-2000)}`);
    }
    return JSON.parse(line) as LoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
