/**
 * The ablation (issue 15): the same load against the bare app and against the verifier with
 * its layers added in turn, in one run, so that each layer's cost shows as the step from the
 * row before: the HTTP stack and routing alone (`/healthz`, no key), the request log line
 * (`info`), the key check with limits counted in memory, the Redis round trip (quota leases off:
 * one script call per request; and on, the default), logging at
 * `info`, and the signature check on every request (cache off). Each figure is the median over
 * the rounds; server CPU µs per request is read from `/proc` and barely moves with other load on
 * the machine, unlike throughput. wrk runs the same targets when it is installed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCpuMeter } from './cpu-time.js';
import type { MintedKey } from './keys.js';
import { runLoad } from './load.js';
import type { Scope } from './scope.js';
import { startBareApp, startVerifierProcess, type BenchServer } from './servers.js';
import { median } from './stats.js';
import { runWrk, wrkAvailable } from './wrk.js';

/** Settings of the ablation runs. */
export interface AblationSettings {
  rounds: number;
  durationS: number;
  connections: number;
}

/** Options of {@link runAblation}. */
export interface AblationOptions {
  scope: Scope;
  settings: AblationSettings;
  issuerUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** A key whose limit the runs never reach. */
  key: MintedKey;
  dir: string;
}

/** One layer's figures with one load generator. */
export interface AblationRow {
  step: string;
  tool: 'autocannon' | 'wrk';
  rps: number;
  /** Throughput relative to the bare Express 5 + helmet app with the same tool. */
  rpsRatio: number;
  p99Ms: number;
  p99Ratio: number;
  /** Server CPU per request, microseconds (median over rounds). */
  cpuUsPerRequest: number | null;
  /** The step this one adds a layer to. */
  after: string | null;
  /** CPU per request minus that of the step it adds to (what the layer costs). */
  addedCpuUs: number | null;
  failures: number;
}

interface Step {
  name: string;
  server: BenchServer;
  path: string;
  /** Index of the step this one adds a layer to. */
  after?: number;
}

/** Runs the ablation and returns its rows, in the order of the steps, per tool. */
export async function runAblation(options: AblationOptions): Promise<AblationRow[]> {
  const { scope, settings } = options;
  const common = { issuerUrl: options.issuerUrl, natsUrl: options.natsUrl };
  const bareNoHelmet = await startBareApp(scope, { helmet: false });
  const bare = await startBareApp(scope);
  const memoryWarn = await startVerifierProcess(scope, { ...common, name: 'verifier (memory limits, warn)', logLevel: 'warn' });
  const redisWarn = await startVerifierProcess(scope, { ...common, name: 'verifier (Redis, warn)', redisUrl: options.redisUrl, logLevel: 'warn' });
  const redisNoLease = await startVerifierProcess(scope, { ...common, name: 'verifier (Redis, warn, no leases)', redisUrl: options.redisUrl, logLevel: 'warn', leaseMax: 1 });
  const redisInfo = await startVerifierProcess(scope, { ...common, name: 'verifier (Redis, info)', redisUrl: options.redisUrl });
  const memoryInfo = await startVerifierProcess(scope, { ...common, name: 'verifier (memory limits, info)', logLevel: 'info' });
  const uncached = await startVerifierProcess(scope, { ...common, name: 'verifier (cache off)', redisUrl: options.redisUrl, cacheSize: 0 });
  const steps: Step[] = [
    { name: 'bare Express 5, no helmet', server: bareNoHelmet, path: '/price?symbol=BTC' },
    { name: 'bare Express 5 + helmet (baseline)', server: bare, path: '/price?symbol=BTC', after: 0 },
    { name: 'verifier GET /healthz, warn (HTTP stack, routing)', server: memoryWarn, path: '/healthz', after: 1 },
    { name: 'verifier GET /healthz, info (+ request log line)', server: memoryInfo, path: '/healthz', after: 2 },
    { name: 'GET /price, warn, limits in memory (+ key check, state, limiter, headers, metrics)', server: memoryWarn, path: '/price?symbol=BTC', after: 2 },
    { name: 'GET /price, warn, limits in Redis, quota leases off (+ a Redis round trip per request)', server: redisNoLease, path: '/price?symbol=BTC', after: 4 },
    { name: 'GET /price, warn, limits in Redis, quota leases (+ Redis, the default)', server: redisWarn, path: '/price?symbol=BTC', after: 4 },
    { name: 'GET /price, info, limits in memory (+ log line)', server: memoryInfo, path: '/price?symbol=BTC', after: 4 },
    { name: 'GET /price, info, limits in Redis (the default)', server: redisInfo, path: '/price?symbol=BTC', after: 7 },
    { name: 'GET /price, info, Redis, cache off (signature every request)', server: uncached, path: '/price?symbol=BTC', after: 8 },
  ];
  const keysFile = join(options.dir, 'ablation-key.json');
  writeFileSync(keysFile, JSON.stringify([options.key.key]));
  const authorization = `Bearer ${options.key.key}`;
  const tools: AblationRow['tool'][] = (await wrkAvailable()) ? ['autocannon', 'wrk'] : ['autocannon'];

  type Run = { rps: number; p99Ms: number; cpu: number | null; failures: number };
  const runs = new Map<string, Run[]>();
  const measure = async (step: Step, tool: AblationRow['tool'], durationS: number): Promise<Run> => {
    const meter = startCpuMeter(step.server.child.process.pid);
    // Every target gets the same header, so the load generator does the same work for each.
    if (tool === 'wrk') {
      const r = await runWrk({ url: step.server.url, path: step.path, connections: settings.connections, durationS, headers: { authorization } });
      const cpu = meter();
      return { rps: r.rps, p99Ms: r.p99Ms, cpu: cpu === undefined ? null : (cpu * 1e6) / r.responses, failures: r.failures };
    }
    const r = await runLoad({ scope, spec: { url: step.server.url, path: step.path, keysFile, connections: settings.connections, durationS } });
    const cpu = meter();
    return { rps: r.rps, p99Ms: r.latency.p99, cpu: cpu === undefined ? null : (cpu * 1e6) / r.responses, failures: r.responses - r.ok + r.errors };
  };

  // Warm-up: JIT and connections.
  for (const step of steps) await measure(step, 'autocannon', 1);
  for (let round = 0; round < settings.rounds; round++) {
    for (const tool of tools) {
      // Rotate so that no step always runs first or right after the same one.
      for (let i = 0; i < steps.length; i++) {
        const step = steps[(i + round) % steps.length]!;
        const id = `${tool}\u0000${step.name}`;
        runs.set(id, [...(runs.get(id) ?? []), await measure(step, tool, settings.durationS)]);
      }
    }
  }

  const rows: AblationRow[] = [];
  for (const tool of tools) {
    const medianOf = (step: Step) => {
      const r = runs.get(`${tool}\u0000${step.name}`)!;
      const cpu = r.map((x) => x.cpu).filter((c): c is number => c !== null);
      return {
        rps: median(r.map((x) => x.rps)),
        p99Ms: median(r.map((x) => x.p99Ms)),
        cpu: cpu.length ? median(cpu) : null,
        failures: r.reduce((n, x) => n + x.failures, 0),
      };
    };
    const medians = steps.map(medianOf);
    const base = medians[1]!;
    for (const [i, step] of steps.entries()) {
      const m = medians[i]!;
      const before = step.after === undefined ? undefined : medians[step.after];
      rows.push({
        step: step.name,
        tool,
        rps: m.rps,
        rpsRatio: m.rps / base.rps,
        p99Ms: m.p99Ms,
        p99Ratio: m.p99Ms / base.p99Ms,
        cpuUsPerRequest: m.cpu,
        after: step.after === undefined ? null : steps[step.after]!.name,
        addedCpuUs: m.cpu !== null && before?.cpu != null ? m.cpu - before.cpu : null,
        failures: m.failures,
      });
    }
  }
  return rows;
}
