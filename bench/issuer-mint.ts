/**
 * Section 5: the issuer minting keys with the outbox on (its own process, publishing to
 * JetStream): `POST /admin/keys` under closed-loop load from a separate process. After each
 * run it waits for the outbox to drain, so a relay that falls behind shows in the figures.
 * Given several replicas (on one PostgreSQL), the connections are split over them, one load
 * process each at once: keys/s is their sum, p50 and p99 the slowest replica's.
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
  /** One issuer, or the replicas of one database. */
  issuers: BenchIssuer[];
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
  const { issuers } = options;
  const first = issuers[0]!;
  const specs = await Promise.all(
    issuers.map(async (issuer) => ({
      url: issuer.url,
      path: '/admin/keys',
      method: 'POST' as const,
      headers: { authorization: `Bearer ${await issuer.adminToken()}`, 'content-type': 'application/json' },
      body: { sub: 'bench-mint', rateLimit: 100, ttl: 3600 },
      connections: Math.max(1, Math.round(options.connections / issuers.length)),
    })),
  );
  await Promise.all(specs.map((spec) => runLoad({ scope: options.scope, spec: { ...spec, amount: Math.ceil(1000 / issuers.length) } })));
  await waitForOutbox(first.url, 120_000);

  const runs = [];
  const cpu: number[] = [];
  let failures = 0;
  for (let i = 0; i < options.rounds; i++) {
    const meters = issuers.map((issuer) => startCpuMeter(issuer.child.process.pid));
    const results = await Promise.all(specs.map((spec) => runLoad({ scope: options.scope, spec: { ...spec, durationS: options.durationS } })));
    const ended = performance.now();
    await waitForOutbox(first.url, 120_000);
    const outboxDrainSeconds = (performance.now() - ended) / 1000;
    const used = meters.map((meter) => meter());
    const responses = results.reduce((sum, r) => sum + r.responses, 0);
    const ok = results.reduce((sum, r) => sum + r.ok, 0);
    if (used.every((u) => u !== undefined) && responses) cpu.push((used.reduce((a, u) => a! + u!, 0)! * 1e6) / responses);
    failures += results.reduce((sum, r) => sum + r.responses - r.ok + r.errors, 0);
    const seconds = Math.max(...results.map((r) => r.seconds));
    runs.push({
      keysPerSecond: results.reduce((sum, r) => sum + r.rps, 0),
      p50Ms: Math.max(...results.map((r) => r.latency.p50)),
      p99Ms: Math.max(...results.map((r) => r.latency.p99)),
      outboxDrainSeconds,
      published: ok / (seconds + outboxDrainSeconds),
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
