/**
 * The benchmark's output: the targets of issue 6 checked against the figures, text tables for
 * the terminal and the README, and the JSON written to `bench/results/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AblationRow } from './ablation.js';
import type { ColdStartRow } from './cold-start.js';
import type { IssuerMintResult } from './issuer-mint.js';
import type { MachineInfo } from './machine.js';
import { formatPoolBench, type PoolBenchRow } from './pool-bench.js';
import type { RevocationResult } from './revocation.js';
import type { ThroughputRow } from './verifier-throughput.js';

/** Everything one run measured. */
export interface BenchResults {
  startedAt: string;
  mode: 'quick' | 'full';
  seconds: number;
  machine: MachineInfo;
  /** Where quick mode measured less, and other facts needed to read the figures. */
  notes: string[];
  /** Each section is absent when `--only` left it out. */
  throughput?: ThroughputRow[] | undefined;
  ablation?: AblationRow[] | undefined;
  revocation?: RevocationResult | undefined;
  coldStart?: ColdStartRow[] | undefined;
  issuer?: IssuerMintResult | undefined;
  /** Section 5 on PostgreSQL, by number of issuer replicas ("1", "3"). */
  issuerPostgres?: Record<string, IssuerMintResult> | undefined;
  pool?: PoolBenchRow[] | undefined;
  targets: TargetCheck[];
}

/** One target of the issue, and whether the run met it. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

const f = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));
const n = (v: number) => Math.round(v).toLocaleString('en');

/** Checks the targets against the figures (null: not measured in this mode). */
export function checkTargets(r: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of (r.throughput ?? []).filter((t) => t.rpsRatio !== null && t.logLevel === 'info')) {
    if (row.load === 'saturating') {
      const floor = row.cache ? 0.9 : 0.6;
      checks.push({ target: `${row.target}: throughput >= ${floor * 100}% of bare`, measured: `${f(row.rpsRatio! * 100, 0)}%`, met: row.rpsRatio! >= floor });
    }
    if (row.cache) checks.push({ target: `${row.target} (${row.load}): p99 <= 1.2x bare`, measured: `${f(row.p99Ratio)}x`, met: row.p99Ratio! <= 1.2 });
  }
  if (r.revocation) {
    checks.push({ target: 'revocation p99 (both verifiers) <= 10 ms', measured: `${f(r.revocation.both.p99)} ms`, met: r.revocation.both.p99 <= 10 });
    // The maximum, not a percentile: one revocation in ~600 waiting 2 s for a pull to expire left
    // every percentile the benchmark printed untouched (issue 13).
    checks.push({
      target: `revocation max (both verifiers, ${n(r.revocation.revocations)} revocations) <= 50 ms`,
      measured: `${f(r.revocation.both.max)} ms (p99.9 ${f(r.revocation.both.p999)} ms)`,
      met: r.revocation.both.max <= 50,
    });
  }
  if (r.coldStart) {
      const million = r.coldStart.find((c) => c.keyStates === 1_000_000);
      checks.push({
        target: 'cold start with 1,000,000 key states <= 10 s',
        measured: million ? `${f(million.readySeconds)} s` : 'not measured (quick)',
        met: million ? million.readySeconds <= 10 : null,
      });
      for (const c of r.coldStart) {
        checks.push({ target: `memory per key state <= 200 B (${n(c.keyStates)})`, measured: `${n(c.bytesPerEntry)} B`, met: c.bytesPerEntry <= 200 });
      }
  }
  return checks;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The whole run as text tables. */
export function formatResults(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`akm benchmark (${r.mode}, ${f(r.seconds / 60, 1)} min) — ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.natsServer}, Redis ${m.redisServer}, load average at start ${m.loadAverage.join(' ')}, commit ${m.gitCommit}`);
  for (const note of r.notes) out.push(`note: ${note}`);

  if (r.throughput) {
    out.push('', '1-2. Verifier GET /price vs bare Express 5 + helmet (medians; ratios vs bare in the same load mode)');
    out.push(table(
      ['target', 'load', 'req/s', 'x bare', 'p50 ms', 'p99 ms', 'p99 x bare', 'server CPU µs/req', 'non-2xx'],
      r.throughput.map((t) => [
        t.target, t.load, n(t.rps), t.rpsRatio === null ? '' : f(t.rpsRatio), f(t.p50Ms), f(t.p99Ms),
        t.p99Ratio === null ? '' : f(t.p99Ratio), f(t.cpuUsPerRequest, 0), String(t.failures),
      ]),
    ));
  }

  if (r.ablation) {
    out.push('', 'Ablation: each layer added in turn (medians; × bare against bare Express 5 + helmet with the same load generator; CPU added against the step named)');
    // Steps are numbered per tool; "adds to" names the step a row's layer is added to.
    const number = (a: AblationRow, step: string | null) =>
      step === null ? '' : String(r.ablation!.filter((b) => b.tool === a.tool).findIndex((b) => b.step === step) + 1);
    out.push(table(
      ['#', 'step', 'tool', 'req/s', 'x bare', 'p99 ms', 'p99 x bare', 'CPU µs/req', 'added µs', 'adds to #', 'non-2xx'],
      r.ablation.map((a) => [
        number(a, a.step), a.step, a.tool, n(a.rps), f(a.rpsRatio), f(a.p99Ms), f(a.p99Ratio), f(a.cpuUsPerRequest, 1),
        a.addedCpuUs === null ? '' : f(a.addedCpuUs, 1), number(a, a.after), String(a.failures),
      ]),
    ));
  }

  const rv = r.revocation;
  if (rv) {
    out.push('', `3. Revocation propagation: issuer 204 → verifier answers 401 key_revoked (${n(rv.revocations)} revocations, poll round trip ${f(rv.pollRoundTripMs)} ms)`);
    out.push(table(
      ['verifier', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
      [
        ...rv.perVerifier.map((s, i) => [`verifier ${'AB'[i]}`, f(s.p50), f(s.p99), f(s.p999), f(s.max)]),
        ['both refuse', f(rv.both.p50), f(rv.both.p99), f(rv.both.p999), f(rv.both.max)],
      ],
    ));
  }

  if (r.coldStart) {
    out.push('', '4. Cold start: new verifier process until /readyz 200, key states published straight to JetStream');
    out.push(table(
      ['key states', 'ready s', 'replay s', 'heap B/entry', 'publish s (set-up)'],
      r.coldStart.map((c) => [n(c.keyStates), f(c.readySeconds), f(c.replaySeconds), n(c.bytesPerEntry), f(c.publishSeconds, 1)]),
    ));
  }

  const is = r.issuer;
  if (is) {
    const mintRow = (store: string, m: IssuerMintResult) =>
      [store, n(m.keysPerSecond), f(m.p50Ms), f(m.p99Ms), f(m.outboxDrainSeconds), n(m.publishedPerSecond), f(m.cpuUsPerKey, 0), String(m.failures)];
    const onPostgres = Object.entries(r.issuerPostgres ?? {}).map(([replicas, m]) => mintRow(`PostgreSQL, ${replicas} replica${replicas === '1' ? '' : 's'}`, m));
    out.push('', '5. Issuer POST /admin/keys with the outbox publishing to JetStream (replicas: connections split over them, keys/s summed, p50/p99 of the slowest)');
    out.push(table(
      ['store', 'keys/s', 'p50 ms', 'p99 ms', 'outbox drained after s', 'published keys/s', 'issuer CPU µs/key', 'non-2xx'],
      [mintRow('SQLite, 1 issuer', is), ...onPostgres],
    ));
  }

  if (r.pool) out.push('', '6. Token pool (bench/pool-bench.ts; latencies in ms)', formatPoolBench(r.pool));

  out.push('', 'Targets');
  out.push(table(['target', 'measured', 'met'], r.targets.map((t) => [t.target, t.measured, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO'])));
  return out.join('\n');
}

/** Writes the results as `bench/results/<timestamp>.json`; returns the path. */
export function writeResults(dir: string, r: BenchResults): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.startedAt.replaceAll(':', '-')}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
