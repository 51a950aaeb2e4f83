/**
 * A verifier service for tests, wired by the same runtime as `main.ts` but with the test's own
 * stream, counter prefix, key set and clock. It owns its NATS connection and Redis client and
 * closes them.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createLogger, type KeyEventFeed } from '@akm/common';
import { createVerifierRuntime, type RunningVerifier } from '../../src/service/index.js';
import { createStaticKeySource } from '../../src/store/key-source.js';
import type { TestStream } from './key-events.js';
import type { TestSigner } from './signing.js';

/** Options of {@link startTestVerifier}. */
export interface TestVerifierOptions {
  signer: TestSigner;
  /** The stream to follow (on a real nats-server); or `feed` to supply one. */
  stream?: TestStream;
  natsUrl?: string;
  feed?: KeyEventFeed;
  /** Count in this Redis; in memory when omitted. */
  redisUrl?: string;
  /** The CA of a `rediss://` Redis. */
  redisCaFile?: string;
  /** Shared by instances that must share counts. */
  keyPrefix?: string;
  now?: () => number;
  cacheSize?: number;
  maxStalenessSeconds?: number;
  /** Wait for the replay before resolving. Default true. */
  waitReady?: boolean;
}

/** A running test verifier. */
export interface TestVerifier {
  svc: RunningVerifier;
  url: string;
  /** True while rate limits are counted in Redis (not in the memory fallback). */
  countingInRedis(): boolean;
  /** `GET path` with the key as bearer. */
  get(path: string, token?: string): request.Test;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a verifier service on a free port. */
export async function startTestVerifier(options: TestVerifierOptions): Promise<TestVerifier> {
  if (!options.feed && (!options.stream || !options.natsUrl)) throw new Error('startTestVerifier needs a stream and natsUrl, or a feed');
  const runtime = await createVerifierRuntime({
    keys: createStaticKeySource(options.signer.jwks),
    ...(options.feed ? { feed: options.feed } : {}),
    ...(options.stream && options.natsUrl
      ? { natsUrl: options.natsUrl, stream: options.stream.stream, subjects: options.stream.subjects }
      : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(options.redisCaFile ? { redisCaFile: options.redisCaFile } : {}),
    keyPrefix: options.keyPrefix ?? `rl-${randomUUID()}`,
    name: 'verifier-under-test',
    logger: createLogger({ name: 'verifier-test', level: 'silent' }),
    now: options.now,
    cacheSize: options.cacheSize,
    maxStalenessSeconds: options.maxStalenessSeconds,
  });
  const svc = runtime.service;
  if (options.waitReady !== false) await svc.ready;
  return {
    svc,
    url: svc.url,
    countingInRedis: () => svc.verifier.readiness().rateLimits === 'shared',
    get(path, token) {
      const req = request(svc.url).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    },
    async metricsText() {
      return (await request(svc.url).get('/metrics')).text;
    },
    stop: runtime.stop,
  };
}

/** A failure message showing the answer, for assertions on status and code. */
export function shown(res: { status: number; text: string }): string {
  return `HTTP ${res.status}: ${res.text}`;
}
