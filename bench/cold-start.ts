/**
 * Section 4: cold start. A stream holding N key states (published straight to JetStream as
 * valid `key.updated` / `key.revoked` events, one subject per key, not through the issuer:
 * minting a million keys would take the issuer minutes) and a new `verifier/dist/main.js` process:
 * time from spawn until `/readyz` answers 200, and its heap per key state after garbage
 * collection, against the same process on an empty stream.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream } from '@nats-io/jetstream';
import { exportJWK, generateKeyPair } from 'jose';
import { connectNats, ensureKeyStream, keySubject, type KeyEvent } from '@akm/common';
import { freePort, startNats } from '../test/support/processes.js';
import { httpRequest } from './http-client.js';
import type { NodeChild, Scope } from './scope.js';
import { waitUntilOk } from './servers.js';
import { median } from './stats.js';

/** Options of {@link runColdStart}. */
export interface ColdStartOptions {
  scope: Scope;
  /** Key states in the stream, ascending (e.g. 100,000 and 1,000,000). */
  sizes: number[];
  /** Verifier starts per size; the figures are medians. */
  runs: number;
  dir: string;
}

/** Cold start with one stream size. */
export interface ColdStartRow {
  keyStates: number;
  /** Seconds from spawn to `/readyz` 200, median. */
  readySeconds: number;
  /** The same minus the median start on an empty stream: the replay itself. */
  replaySeconds: number;
  /** Heap bytes per key state held, median. */
  bytesPerEntry: number;
  /** Entries the verifier reported holding. */
  entries: number;
  /** Seconds it took to publish the events (set-up, not a figure of the verifier). */
  publishSeconds: number;
  runs: { readySeconds: number; heapUsed: number; entries: number }[];
}

const DAY = 86_400;

/** Runs section 4 on a nats-server of its own (removed afterwards with its data). */
export async function runColdStart(options: ColdStartOptions): Promise<ColdStartRow[]> {
  const nats = await startNats();
  options.scope.own(() => nats.destroy());
  const nc = await connectNats({ url: nats.url, name: 'bench-cold-start' });
  options.scope.own(() => nc.close());
  await ensureKeyStream(nc, { maxAgeSeconds: 365 * DAY });
  const jwksFile = join(options.dir, 'jwks.json');
  const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' }] }));

  const start = (size: number) => startProbedVerifier(options.scope, nats.url, jwksFile, size);
  const empty = [];
  for (let i = 0; i < options.runs; i++) empty.push(await start(0));
  const emptyReady = median(empty.map((r) => r.readySeconds));
  const emptyHeap = median(empty.map((r) => r.heapUsed));

  const rows: ColdStartRow[] = [];
  let published = 0;
  for (const size of options.sizes) {
    const began = performance.now();
    await publishKeyStates(nc, size - published);
    published = size;
    const publishSeconds = (performance.now() - began) / 1000;
    const runs = [];
    for (let i = 0; i < options.runs; i++) runs.push(await start(size));
    const readySeconds = median(runs.map((r) => r.readySeconds));
    rows.push({
      keyStates: size,
      readySeconds,
      replaySeconds: readySeconds - emptyReady,
      bytesPerEntry: median(runs.map((r) => (r.heapUsed - emptyHeap) / r.entries)),
      entries: median(runs.map((r) => r.entries)),
      publishSeconds,
      runs,
    });
  }
  return rows;
}

/** Publishes `count` key states, at most `window` unacknowledged at a time. */
async function publishKeyStates(nc: Awaited<ReturnType<typeof connectNats>>, count: number, window = 2048): Promise<void> {
  const js = jetstream(nc);
  const at = Date.now();
  const expiresAt = Math.floor(at / 1000) + 30 * DAY;
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const keyId = randomUUID();
    const event: KeyEvent = {
      v: 2,
      type: i % 10 === 0 ? 'key.revoked' : 'key.updated',
      id: randomUUID(),
      keyId,
      sub: `user-${i % 5000}`,
      role: 'user',
      status: i % 10 === 0 ? 'revoked' : 'active',
      rateLimit: 600,
      expiresAt,
      version: 2,
      at: Math.floor(at / 1000),
    };
    const ack = js.publish(keySubject(keyId), JSON.stringify(event));
    inFlight.add(ack);
    void ack.finally(() => inFlight.delete(ack));
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Starts a verifier on the stream, times it to ready, reads its heap and entries, stops it. */
async function startProbedVerifier(scope: Scope, natsUrl: string, jwksFile: string, expected: number) {
  const port = await freePort();
  const began = performance.now();
  const child = scope.spawnNode({
    name: `verifier (cold start, ${expected} key states)`,
    script: 'verifier/dist/main.js',
    nodeArgs: ['--expose-gc', '--import', './bench/heap-probe.mjs'],
    ipc: true,
    env: { VERIFIER_PORT: String(port), AKM_JWKS_FILE: jwksFile, NATS_URL: natsUrl, REDIS_URL: '', LOG_LEVEL: 'warn' },
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitUntilOk(`${url}/readyz`, child, 120_000, 10);
    const readySeconds = (performance.now() - began) / 1000;
    // Typed arrays (the key-state store's columns) live outside the V8 heap: count both.
    const { heapUsed: jsHeap, arrayBuffers } = await askHeap(child);
    const heapUsed = jsHeap + arrayBuffers;
    const metrics = await httpRequest(`${url}/metrics`);
    const entries = Number(/^akm_verifier_key_state_entries (\d+)$/m.exec(metrics.text)?.[1] ?? NaN);
    if (expected > 0 && entries !== expected) throw new Error(`the verifier holds ${entries} key states, expected ${expected}`);
    return { readySeconds, heapUsed, entries };
  } finally {
    await child.stop();
  }
}

function askHeap(child: NodeChild): Promise<{ heapUsed: number; arrayBuffers: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the heap probe did not answer')), 30_000);
    child.process.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as { heapUsed: number; arrayBuffers: number });
    });
    child.process.send('heap');
  });
}
