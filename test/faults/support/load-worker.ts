/**
 * The load generator of case 7, run as its own process so that it does not share the test's
 * event loop: autocannon against one verifier URL, cycling through the given keys. Arguments:
 * one JSON object { url, keys, durationS, connections, overallRate? }. Prints one JSON line.
 */
import autocannon from 'autocannon';

interface Args {
  url: string;
  keys: string[];
  durationS: number;
  connections: number;
  overallRate?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const result = await autocannon({
  url: args.url,
  connections: args.connections,
  duration: args.durationS,
  ...(args.overallRate ? { overallRate: args.overallRate } : {}),
  requests: args.keys.map((key) => ({ method: 'GET' as const, path: '/price?symbol=BTC', headers: { authorization: `Bearer ${key}` } })),
});
process.stdout.write(
  `${JSON.stringify({
    total: result.requests.total,
    perSecond: result.requests.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: result.statusCodeStats,
    p50: result.latency.p50,
    p99: result.latency.p99,
  })}\n`,
);
