/**
 * Section 5: the issuer minting keys with the outbox on (its own process, publishing to
 * JetStream): `POST /admin/keys` under closed-loop load from a separate process. After each
 * run it waits for the outbox to drain, so a relay that falls behind shows in the figures.
 */
import { performance } from 'node:perf_hooks';
import { startCpuMeter } from './cpu-time.js';
import { waitForOutbox } from './keys.js';
import { runLoad } from './load.js';
import type { Scope } from './scope.js';
import type { BenchIssuer } from './servers.js';
import { median } from './stats.js';

/** Options of {@link runIssuerMint}. */
export interface IssuerMintOptions {
  scope: Scope;
  issuer: BenchIssuer;
  rounds: number;
  durationS: number;
  connections: number;
}

/** Minting figures, medians over the rounds. */
export interface IssuerMintResult {
  keysPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Seconds after a run until every event of it was published. */
  outboxDrainSeconds: number;
  /** Keys per second counting the drain: minted / (run + drain). */
  publishedPerSecond: number;
  cpuUsPerKey: number | null;
  failures: number;
  runs: { keysPerSecond: number; p50Ms: number; p99Ms: number; outboxDrainSeconds: number }[];
}

/** Runs section 5. */
export async function runIssuerMint(options: IssuerMintOptions): Promise<IssuerMintResult> {
  const { issuer } = options;
  const token = await issuer.adminToken();
  const spec = {
    url: issuer.url,
    path: '/admin/keys',
    method: 'POST' as const,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: { sub: 'bench-mint', rateLimit: 100, ttl: 3600 },
    connections: options.connections,
  };
  await runLoad({ scope: options.scope, spec: { ...spec, amount: 1000 } });
  await waitForOutbox(issuer.url, 120_000);

  const runs = [];
  const cpu: number[] = [];
  let failures = 0;
  for (let i = 0; i < options.rounds; i++) {
    const meter = startCpuMeter(issuer.child.process.pid);
    const result = await runLoad({ scope: options.scope, spec: { ...spec, durationS: options.durationS } });
    const ended = performance.now();
    await waitForOutbox(issuer.url, 120_000);
    const outboxDrainSeconds = (performance.now() - ended) / 1000;
    const used = meter();
    if (used !== undefined && result.responses) cpu.push((used * 1e6) / result.responses);
    failures += result.responses - result.ok + result.errors;
    runs.push({
      keysPerSecond: result.rps,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      outboxDrainSeconds,
      published: result.ok / (result.seconds + outboxDrainSeconds),
    });
  }
  return {
    keysPerSecond: median(runs.map((r) => r.keysPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    outboxDrainSeconds: median(runs.map((r) => r.outboxDrainSeconds)),
    publishedPerSecond: median(runs.map((r) => r.published)),
    cpuUsPerKey: cpu.length ? median(cpu) : null,
    failures,
    runs: runs.map(({ published: _published, ...r }) => r),
  };
}
