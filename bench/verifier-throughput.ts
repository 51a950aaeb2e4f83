/**
 * Sections 1 and 2: the verifier service (its own process, Redis counting, key states from
 * JetStream) against a bare Express 5 + helmet app answering the same JSON, under the same load
 * from a separate process. Targets alternate within each round and every figure is the median
 * over the rounds; the ratios compare medians measured in this run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCpuMeter } from './cpu-time.js';
import type { MintedKey } from './keys.js';
import { runLoad, type LoadResult } from './load.js';
import type { Scope } from './scope.js';
import { startBareApp, startVerifierProcess, type BenchServer } from './servers.js';
import { median } from './stats.js';

/** Settings of the throughput runs. */
export interface ThroughputSettings {
  /** Rounds; each target runs once per round. */
  rounds: number;
  /** Seconds per run. */
  durationS: number;
  /** Seconds per run at a fixed rate. */
  fixedRateDurationS: number;
  connections: number;
}

/** Options of {@link runVerifierThroughput}. */
export interface VerifierThroughputOptions {
  scope: Scope;
  settings: ThroughputSettings;
  issuerUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** 10,000 keys for the distinct-keys runs. */
  manyKeys: MintedKey[];
  /** One fresh key per single-key run, so no key nears its limit. */
  singleKeys: MintedKey[];
  /** Where key files for the load generator go. */
  dir: string;
}

/** The median figures of one target. */
export interface ThroughputRow {
  target: string;
  /** How the load was offered: `saturating` (closed loop) or `fixed N/s`. */
  load: string;
  keys: number;
  cache: boolean;
  logLevel: string | null;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the server process per request (microseconds), median over rounds. */
  cpuUsPerRequest: number | null;
  /** Non-2xx answers and socket errors over all rounds (must be 0). */
  failures: number;
  /** Throughput and p99 relative to the bare app in the same load mode. */
  rpsRatio: number | null;
  p99Ratio: number | null;
  runs: { rps: number; p50Ms: number; p99Ms: number; cpuUsPerRequest: number | null }[];
}

interface Target {
  name: string;
  server: BenchServer;
  keysFile: () => string;
  keys: number;
  cache: boolean;
  logLevel: string | null;
}

/** Runs sections 1 and 2 and returns one row per target and load mode. */
export async function runVerifierThroughput(options: VerifierThroughputOptions): Promise<ThroughputRow[]> {
  const { scope, settings } = options;
  const common = { issuerUrl: options.issuerUrl, natsUrl: options.natsUrl, redisUrl: options.redisUrl };
  const [bare, cached, uncached, quiet] = [
    await startBareApp(scope),
    await startVerifierProcess(scope, { ...common, name: 'verifier (cache on)' }),
    await startVerifierProcess(scope, { ...common, name: 'verifier (cache off)', cacheSize: 0 }),
    await startVerifierProcess(scope, { ...common, name: 'verifier (warn)', logLevel: 'warn' }),
  ];
  const manyFile = join(options.dir, 'keys-10000.json');
  writeFileSync(manyFile, JSON.stringify(options.manyKeys.map((k) => k.key)));
  const singles = [...options.singleKeys];
  const single = () => {
    const key = singles.shift();
    if (!key) throw new Error('ran out of single keys');
    const file = join(options.dir, `key-${key.id}.json`);
    writeFileSync(file, JSON.stringify([key.key]));
    return file;
  };
  // The bare app ignores the key, but gets the same header so the load generator does the same work.
  const bareFile = join(options.dir, 'key-bare.json');
  writeFileSync(bareFile, JSON.stringify([options.manyKeys[0]!.key]));
  const many = options.manyKeys.length;
  const targets: Target[] = [
    { name: 'bare Express 5 + helmet', server: bare, keysFile: () => bareFile, keys: 1, cache: false, logLevel: null },
    { name: 'verifier, 1 key', server: cached, keysFile: single, keys: 1, cache: true, logLevel: 'info' },
    { name: `verifier, ${many.toLocaleString('en')} keys`, server: cached, keysFile: () => manyFile, keys: many, cache: true, logLevel: 'info' },
    { name: 'verifier, 1 key, cache off', server: uncached, keysFile: single, keys: 1, cache: false, logLevel: 'info' },
    { name: `verifier, ${many.toLocaleString('en')} keys, cache off`, server: uncached, keysFile: () => manyFile, keys: many, cache: false, logLevel: 'info' },
    { name: 'verifier, 1 key, LOG_LEVEL=warn', server: quiet, keysFile: single, keys: 1, cache: true, logLevel: 'warn' },
  ];

  const load = async (target: Target, extra: { durationS?: number; amount?: number; overallRate?: number }) => {
    const meter = startCpuMeter(target.server.child.process.pid);
    const result = await runLoad({
      scope,
      spec: {
        url: target.server.url,
        path: '/price?symbol=BTC',
        keysFile: target.keysFile(),
        connections: settings.connections,
        ...extra,
      },
    });
    const cpu = meter();
    return { result, cpuUsPerRequest: cpu === undefined || !result.responses ? null : (cpu * 1e6) / result.responses };
  };

  // Warm-up: JIT, connections, and every one of the distinct keys once through the cache.
  for (const target of targets) await load(target, { amount: Math.max(3000, target.keys) });

  const saturating = await measureRounds(targets, settings.rounds, (t) => load(t, { durationS: settings.durationS }));
  const bareRps = saturating[0]!.rps;
  const slowest = Math.min(...saturating.map((r) => r.rps));
  // Latency under the same offered load for all: half of what the slowest target sustains.
  const rate = Math.max(100, Math.round((slowest * 0.5) / 100) * 100);
  const fixedTargets = targets.filter((t) => t.logLevel !== 'warn');
  const fixed = await measureRounds(fixedTargets, settings.rounds, (t) =>
    load(t, { durationS: settings.fixedRateDurationS, overallRate: rate }),
  );

  const rows = [
    ...saturating.map((r) => ({ ...r, load: 'saturating' })),
    ...fixed.map((r) => ({ ...r, load: `fixed ${rate.toLocaleString('en')}/s` })),
  ];
  return rows.map((row) => {
    const base = rows.find((r) => r.load === row.load && r.target === targets[0]!.name)!;
    return {
      ...row,
      rpsRatio: row.target === base.target ? null : row.rps / (row.load === 'saturating' ? bareRps : base.rps),
      p99Ratio: row.target === base.target ? null : row.p99Ms / base.p99Ms,
    };
  });
}

type Measured = { result: LoadResult; cpuUsPerRequest: number | null };

async function measureRounds(
  targets: Target[],
  rounds: number,
  run: (target: Target) => Promise<Measured>,
): Promise<Omit<ThroughputRow, 'load' | 'rpsRatio' | 'p99Ratio'>[]> {
  const runs = new Map<Target, Measured[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no target always runs first (or right after the same one).
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!;
      runs.get(target)!.push(await run(target));
    }
  }
  return targets.map((target) => {
    const measured = runs.get(target)!;
    const perRun = measured.map((m) => ({
      rps: m.result.rps,
      p50Ms: m.result.latency.p50,
      p99Ms: m.result.latency.p99,
      cpuUsPerRequest: m.cpuUsPerRequest,
    }));
    const cpu = perRun.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== null);
    return {
      target: target.name,
      keys: target.keys,
      cache: target.cache,
      logLevel: target.logLevel,
      rps: median(perRun.map((r) => r.rps)),
      p50Ms: median(perRun.map((r) => r.p50Ms)),
      p99Ms: median(perRun.map((r) => r.p99Ms)),
      cpuUsPerRequest: cpu.length ? median(cpu) : null,
      failures: measured.reduce((n, m) => n + (m.result.responses - m.result.ok) + m.result.errors, 0),
      runs: perRun,
    };
  });
}
