/**
 * Case 7: sixty seconds of sustained traffic at the verifier's measured capacity. Zero errors,
 * and flat memory: the verifier's RSS at the end stays within a bound of the RSS at the start.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, startRedis, waitFor, type TestServer } from '../support/processes.js';
import { call, signInAdmin } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

const run = promisify(execFile);

interface LoadResult {
  total: number;
  perSecond: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, { count: number }>;
  p50: number;
  p99: number;
}

/** Runs the load worker in its own process and returns its result. */
async function load(args: { url: string; keys: string[]; durationS: number; connections: number; overallRate?: number }): Promise<LoadResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/faults/support/load-worker.ts', JSON.stringify(args)], {
    timeout: (args.durationS + 30) * 1000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

const MB = 1024;
/**
 * RSS may grow by this much over the minute: V8's heap settles after warm-up and the allocator
 * keeps freed pages, which is tens of MB at most; a leak of only 200 bytes per request would add
 * about 36 MB at 3,000 requests per second, and grow linearly through the run.
 */
const RSS_GROWTH_BOUND_KB = 40 * MB;

describe('case 7: sixty seconds at the verifier\'s measured capacity', function () {
  this.timeout(180_000);
  let nats: TestServer;
  let redis: TestServer;
  let issuer: AkmProcess;
  let verifier: AkmProcess;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case7-'));

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case7-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    verifier = await startVerifierProcess({ logDir: LOG_DIR, name: 'case7-verifier', issuerUrl: issuer.url, natsUrl: nats.url, redisUrl: redis.url });
    await waitFor(async () => (await call(verifier.url, '/readyz')).status === 200, 20_000, 50);
  });
  after(async () => {
    await Promise.all([issuer, verifier].map((p) => p?.kill()));
    await Promise.all([nats?.destroy(), redis?.destroy()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves every request of a minute at capacity without an error, and its memory stays flat', async () => {
    const admin = await signInAdmin(issuer.url);
    // Eight keys at the highest limit, so that the limit is never what refuses a request.
    const keys = await Promise.all(Array.from({ length: 8 }, () => admin.mint({ rateLimit: 1_000_000 })));
    const keyStrings = keys.map((k) => k.key);

    // Measure capacity (this is also the warm-up), then hold that rate for a minute.
    const probe = await load({ url: verifier.url, keys: keyStrings, durationS: 8, connections: 16 });
    expect(probe.errors + probe.timeouts + probe.non2xx, `capacity run: ${JSON.stringify(probe)}`).to.equal(0);
    const capacity = Math.round(probe.perSecond);
    const rssStart = verifier.rssKb();
    const samples: number[] = [rssStart];
    const sampler = setInterval(() => {
      if (verifier.running()) samples.push(verifier.rssKb());
    }, 5000);
    let steady: LoadResult;
    try {
      steady = await load({ url: verifier.url, keys: keyStrings, durationS: 60, connections: 16, overallRate: capacity });
    } finally {
      clearInterval(sampler);
    }
    const rssEnd = verifier.rssKb();
    samples.push(rssEnd);

    const summary = JSON.stringify(steady);
    expect(steady.errors, summary).to.equal(0);
    expect(steady.timeouts, summary).to.equal(0);
    expect(steady.non2xx, summary).to.equal(0);
    // The load really ran at about capacity (half of it on average is the floor, on a shared 2-core machine).
    expect(steady.total, `${summary}: at least half of a minute at ${capacity}/s`).to.be.at.least(capacity * 60 * 0.5);
    expect(verifier.running(), 'the verifier is still running').to.equal(true);
    expect(rssEnd - rssStart, `RSS ${rssStart} → ${rssEnd} KiB, samples ${samples.join(', ')}`).to.be.below(RSS_GROWTH_BOUND_KB);

    const mb = (kb: number) => (kb / 1024).toFixed(1);
    reportFigure({ case: 7, name: 'measured capacity (8 s, 16 connections)', value: capacity, unit: 'req/s' });
    reportFigure({ case: 7, name: '60 s at capacity: requests / achieved rate / errors+timeouts+non-2xx', value: `${steady.total} / ${Math.round(steady.perSecond)} req/s / ${steady.errors + steady.timeouts + steady.non2xx}` });
    reportFigure({ case: 7, name: '60 s at capacity: latency p50 / p99', value: `${steady.p50} / ${steady.p99}`, unit: 'ms' });
    reportFigure({ case: 7, name: 'verifier RSS start → end (every 5 s)', value: `${mb(rssStart)} → ${mb(rssEnd)} MiB (${samples.map(mb).join(', ')})` });
  });
});
