/**
 * The load generator, run as its own process so that it never shares an event loop with the
 * server under test: `tsx bench/load-worker.ts <spec.json>` runs autocannon as the spec says and
 * prints one JSON {@link LoadResult} line. Latency is recorded per response from autocannon's
 * own high-resolution timings (its summary histogram has 1 ms resolution, too coarse here).
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { summarize } from './stats.js';
import type { LoadResult, LoadSpec } from './load.js';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
const bearers = spec.keysFile
  ? (JSON.parse(readFileSync(spec.keysFile, 'utf8')) as string[]).map((k) => `Bearer ${k}`)
  : [];
let next = 0;

const latencies = new Float64Array(spec.maxSamples ?? 4_000_000);
let recorded = 0;
const statuses: Record<string, number> = {};

const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  pipelining: 1,
  ...(spec.amount ? { amount: spec.amount } : { duration: spec.durationS }),
  ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  timeout: 10,
  requests: [
    {
      method: spec.method ?? 'GET',
      path: spec.path,
      headers: spec.headers ?? {},
      ...(spec.body ? { body: JSON.stringify(spec.body) } : {}),
      // The same work for every target: one header from a list, rotating (a list of one for one key).
      ...(bearers.length
        ? {
            setupRequest: (req: autocannon.Request) => {
              req.headers = { ...req.headers, authorization: bearers[next++ % bearers.length]! };
              return req;
            },
          }
        : {}),
    },
  ],
}, finish);

instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  if (recorded < latencies.length) latencies[recorded++] = responseTime;
});

function finish(err: unknown, result: autocannon.Result): void {
  if (err) throw err;
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  const ok = Object.entries(statuses).reduce((n, [s, c]) => (s.startsWith('2') ? n + c : n), 0);
  const out: LoadResult = {
    seconds,
    responses: Object.values(statuses).reduce((a, b) => a + b, 0),
    ok,
    rps: ok / seconds,
    latency: summarize(latencies.subarray(0, recorded)),
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
