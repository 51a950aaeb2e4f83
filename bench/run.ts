/**
 * `npm run bench [-- --quick] [-- --only <section>]`: akm's benchmark suite (issue 6). Sections:
 * `throughput`, `ablation`, `revocation`, `cold-start`, `issuer`, `pool`; `--only` (repeatable,
 * or comma-separated) runs only those. Starts its own nats-server,
 * redis-server, issuer and verifier processes on 127.0.0.1, drives load from separate
 * processes, prints the tables and writes JSON to `bench/results/<timestamp>.json`. Every
 * process it starts is stopped at the end, also on failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runAblation } from './ablation.js';
import { runColdStart } from './cold-start.js';
import { createAgent } from './http-client.js';
import { runIssuerMint, type IssuerMintResult } from './issuer-mint.js';
import { mintKeys, waitForOutbox } from './keys.js';
import { describeMachine } from './machine.js';
import { runPoolBench } from './pool-bench.js';
import { checkTargets, formatResults, writeResults, type BenchResults } from './report.js';
import { runRevocation } from './revocation.js';
import { createScope, ROOT, type Scope } from './scope.js';
import { startInfra, startIssuerProcess } from './servers.js';
import { runVerifierThroughput } from './verifier-throughput.js';
import { createTestDatabase, startPostgres } from '../test/support/processes.js';

const quick = process.argv.includes('--quick');
const SECTIONS = ['throughput', 'ablation', 'revocation', 'cold-start', 'issuer', 'pool'] as const;
type Section = (typeof SECTIONS)[number];
const only = process.argv.flatMap((arg, i, all) => (all[i - 1] === '--only' ? arg.split(',') : []));
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    process.stderr.write(`bench: unknown section "${name}" after --only; sections: ${SECTIONS.join(', ')}\n`);
    process.exit(64);
  }
}
const runs = (section: Section) => only.length === 0 || only.includes(section);
const settings = quick
  ? {
      throughput: { rounds: 2, durationS: 2, fixedRateDurationS: 2, connections: 16 },
      ablation: { rounds: 1, durationS: 3, connections: 16 },
      revocations: 1000,
      coldStart: { sizes: [100_000], runs: 1 },
      issuer: { rounds: 2, durationS: 2, connections: 16 },
    }
  : {
      throughput: { rounds: 5, durationS: 10, fixedRateDurationS: 5, connections: 16 },
      ablation: { rounds: 3, durationS: 5, connections: 16 },
      // At least 10,000: the maximum must catch a one-in-600 stall (issue 13), not just p99.
      revocations: 10_000,
      coldStart: { sizes: [100_000, 1_000_000], runs: 3 },
      issuer: { rounds: 5, durationS: 10, connections: 16 },
    };
const DISTINCT_KEYS = 10_000;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function inScope<T>(run: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = createScope();
  try {
    return await run(scope);
  } finally {
    await scope.close();
  }
}

async function main(root: Scope): Promise<void> {
  const startedAt = new Date().toISOString();
  const began = performance.now();
  const machine = describeMachine();
  const dir = mkdtempSync(join(tmpdir(), 'akm-bench-'));
  root.own(() => rmSync(dir, { recursive: true, force: true }));

  log('starting nats-server, redis-server and the issuer');
  const { nats, redis } = await startInfra(root);
  const issuer = await startIssuerProcess(root, { natsUrl: nats.url });
  const adminToken = await issuer.adminToken();
  const singleRuns = 3 + settings.throughput.rounds * 5 + 5;
  const counts = {
    many: runs('throughput') ? DISTINCT_KEYS : 0,
    single: runs('throughput') ? singleRuns : 0,
    ablation: runs('ablation') ? 1 : 0,
    revocation: runs('revocation') ? settings.revocations : 0,
  };
  const total = counts.many + counts.single + counts.ablation + counts.revocation;
  log(`minting ${total} keys through the issuer`);
  const agent = createAgent(32);
  root.own(() => agent.destroy());
  const minted = total ? await mintKeys({ issuerUrl: issuer.url, adminToken, count: total, concurrency: 32, agent }) : [];
  await waitForOutbox(issuer.url);
  const take = (n: number) => minted.splice(0, n);
  const manyKeys = take(counts.many);
  const singleKeys = take(counts.single);
  const ablationKey = take(counts.ablation)[0];
  const revocationKeys = take(counts.revocation);

  let throughput;
  if (runs('throughput')) {
    log('1-2: verifier throughput and latency against the bare app');
    throughput = await inScope((scope) =>
      runVerifierThroughput({
        scope,
        settings: settings.throughput,
        issuerUrl: issuer.url,
        natsUrl: nats.url,
        redisUrl: redis.url,
        manyKeys,
        singleKeys,
        dir,
      }),
    );
  }

  let ablation;
  if (ablationKey) {
    log('ablation: the verifier layer by layer against the bare app');
    ablation = await inScope((scope) =>
      runAblation({ scope, settings: settings.ablation, issuerUrl: issuer.url, natsUrl: nats.url, redisUrl: redis.url, key: ablationKey, dir }),
    );
  }

  let revocation;
  if (runs('revocation')) {
    log(`3: revocation propagation (${settings.revocations} revocations, two verifiers)`);
    const revokerToken = await issuer.adminToken();
    revocation = await inScope((scope) =>
      runRevocation({ scope, issuerUrl: issuer.url, adminToken: revokerToken, natsUrl: nats.url, redisUrl: redis.url, keys: revocationKeys }),
    );
  }

  let coldStart;
  if (runs('cold-start')) {
    log(`4: cold start (${settings.coldStart.sizes.map((s) => s.toLocaleString('en')).join(', ')} key states)`);
    coldStart = await inScope((scope) => runColdStart({ scope, ...settings.coldStart, dir }));
  }

  let issuerMint;
  let issuerPostgres: Record<string, IssuerMintResult> | undefined;
  if (runs('issuer')) {
    log('5: issuer minting with the outbox on');
    issuerMint = await runIssuerMint({ scope: root, issuers: [issuer], ...settings.issuer });

    log('5b: the same on PostgreSQL, 1 and 3 replicas');
    const postgres = await startPostgres();
    root.own(() => postgres.destroy());
    issuerPostgres = {};
    for (const replicas of [1, 3]) {
      issuerPostgres[`${replicas}`] = await inScope(async (scope) => {
        const databaseUrl = await createTestDatabase(postgres);
        const password = randomBytes(16).toString('hex');
        const issuers = [];
        // One after the other: the first makes the schema, the admin and the signing keys.
        for (let i = 0; i < replicas; i++) {
          issuers.push(await startIssuerProcess(scope, { natsUrl: nats.url, databaseUrl, password, name: `issuer-pg-${i}` }));
        }
        return runIssuerMint({ scope, issuers, ...settings.issuer });
      });
    }
  }

  let pool;
  if (runs('pool')) {
    log('6: token pool');
    pool = await runPoolBench({ quick, redisUrl: redis.url });
  }

  const notes = [
    'verifier figures at LOG_LEVEL=info (the service default: one log line per request, written to /dev/null); one row at warn shows what logging costs',
    'all processes share the machine: the load generator, the server under test, Redis and NATS compete for the same cores',
    ...(quick
      ? [
          `quick mode: ${settings.throughput.rounds} rounds of ${settings.throughput.durationS} s per target (full: 5 × 10 s), ${settings.revocations} revocations (full: 10,000), cold start at 100,000 key states only, 1 start each (full: 100,000 and 1,000,000, 3 starts), issuer ${settings.issuer.rounds} × ${settings.issuer.durationS} s, token pool up to 100,000 tokens`,
        ]
      : []),
    ...(only.length ? [`only the sections ${only.join(', ')} (--only)`] : []),
  ];
  const partial = {
    startedAt,
    mode: quick ? ('quick' as const) : ('full' as const),
    seconds: (performance.now() - began) / 1000,
    machine,
    notes,
    throughput,
    ablation,
    revocation,
    coldStart,
    issuer: issuerMint,
    issuerPostgres,
    pool,
  };
  const results: BenchResults = { ...partial, targets: checkTargets(partial) };
  process.stdout.write(`\n${formatResults(results)}\n`);
  const file = writeResults(join(ROOT, 'bench', 'results'), results);
  process.stdout.write(`\nresults: ${file}\n`);
}

const root = createScope();
let stopping = false;
const interrupt = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping every process the benchmark started`);
  void root.close().then(() => process.exit(130));
};
process.on('SIGINT', () => interrupt('SIGINT'));
process.on('SIGTERM', () => interrupt('SIGTERM'));

try {
  await main(root);
} catch (err) {
  process.exitCode = 1;
  log(`failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  await root.close();
}
