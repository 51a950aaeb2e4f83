/**
 * A verifier service for tests, wired by the same runtime as `main.ts` but with the test's own
 * stream, counter prefix, key set and clock. It owns its NATS connection and Redis client and
 * closes them. `useTestVerifier` registers the hooks that start and stop such verifiers for a suite.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createLogger, createMemoryKeyBus, type KeyEventFeed, type MemoryKeyBus } from '@akm/common';
import { startNats, startRedis, waitFor, type RedisServerOptions, type TestServer } from '../../../test/support/processes.js';
import { stopEach } from '../../../test/support/teardown.js';
import { createVerifierRuntime, type RunningVerifier } from '../../src/service/index.js';
import { createStaticKeySource } from '../../src/store/key-source.js';
import { createTestStream, type TestStream } from './key-events.js';
import { createSigner, type TestSigner } from './signing.js';

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

/** Options of {@link useTestVerifier}. */
export interface UseTestVerifierOptions extends Pick<TestVerifierOptions, 'now' | 'cacheSize' | 'maxStalenessSeconds'> {
  /** Where key events come from: an in-process bus (default), or a stream of the test's own on a real nats-server. */
  events?: 'bus' | 'nats';
  /** Count in a real redis-server (with these options, e.g. `{ owned: true }`); in memory when omitted. */
  redis?: true | RedisServerOptions;
  /** Verifiers started before each test (or the suite); 0 when the tests start theirs with `start`. Default 1. */
  instances?: number;
  /** A new signer, bus or stream, counter prefix and verifiers for each test (`each`, the default) or one set for the suite (`all`). */
  scope?: 'each' | 'all';
  /** nats-server and redis-server once for the suite (`all`, the default), or anew for each test that kills or restarts them (`each`, with `scope: 'each'`). */
  servers?: 'each' | 'all';
}

/** What a test of {@link useTestVerifier} works with; reading a part setup did not start throws. */
export interface TestVerifierSuite {
  signer: TestSigner;
  /** The first verifier. */
  verifier: TestVerifier;
  /** Every verifier started so far, in order. */
  verifiers: TestVerifier[];
  /** The in-process bus the verifiers follow (`events: 'bus'`). */
  bus: MemoryKeyBus;
  /** The stream the verifiers follow (`events: 'nats'`) and its server. */
  stream: TestStream;
  nats: TestServer;
  redis: TestServer;
  /** The Redis key prefix every verifier of the test (or suite) shares. */
  keyPrefix: string;
  /** Starts one more verifier like the others (`more` overrides any option), stopped with them. */
  start(more?: Partial<TestVerifierOptions>): Promise<TestVerifier>;
}

/**
 * Registers the mocha hooks of a verifier suite: its servers, a signer, the key events (bus or
 * stream) and `instances` verifiers sharing them and a counter prefix; with Redis, waits until
 * every verifier counts there. After-hooks stop everything started, also when setup failed half-way.
 * @example
 * const t = useTestVerifier({ events: 'nats', redis: true });
 * it('…', async () => t.verifier.get('/price?symbol=BTC', (await signKey(t.signer)).token));
 */
export function useTestVerifier(options: UseTestVerifierOptions = {}): TestVerifierSuite {
  const { events = 'bus', redis: redisOptions, instances = 1, scope = 'each', now, cacheSize, maxStalenessSeconds } = options;
  if (scope === 'all' && options.servers === 'each') throw new Error("useTestVerifier: servers 'each' needs scope 'each' (one set of verifiers cannot outlive its servers)");
  const serversPerTest = options.servers === 'each';
  let nats: TestServer | undefined;
  let redis: TestServer | undefined;
  let parts: { signer: TestSigner; keyPrefix: string; bus?: MemoryKeyBus; stream?: TestStream } | undefined;
  const verifiers: TestVerifier[] = [];

  const startServers = async () => {
    if (events === 'nats') nats = await startNats();
    if (redisOptions) redis = await startRedis(redisOptions === true ? {} : redisOptions);
  };
  const stopServers = () => stopEach(() => nats?.destroy(), () => redis?.destroy(), () => (nats = redis = undefined));
  const present = <T>(part: T | undefined, what: string): T => {
    if (part === undefined) throw new Error(`the test verifier has no ${what}: ${parts ? 'the suite did not ask for one' : 'its setup did not complete'}`);
    return part;
  };
  const started = () => present(parts, 'signer');

  const suite: TestVerifierSuite = {
    get signer() {
      return started().signer;
    },
    get verifier() {
      return present(verifiers[0], 'verifier');
    },
    verifiers,
    get bus() {
      return present(parts?.bus, 'bus');
    },
    get stream() {
      return present(parts?.stream, 'stream');
    },
    get nats() {
      return present(nats, 'nats-server');
    },
    get redis() {
      return present(redis, 'redis-server');
    },
    get keyPrefix() {
      return started().keyPrefix;
    },
    async start(more = {}) {
      const { signer, keyPrefix, bus } = started();
      const feed = more.feed ?? bus?.createFeed();
      const verifier = await startTestVerifier({
        signer,
        ...(feed ? { feed } : { stream: suite.stream, natsUrl: suite.nats.url }),
        ...(redis ? { redisUrl: redis.url } : {}),
        keyPrefix,
        now,
        cacheSize,
        maxStalenessSeconds,
        ...more,
      });
      verifiers.push(verifier);
      if (redis) await waitFor(() => verifier.countingInRedis(), 5000);
      return verifier;
    },
  };

  // Hooks of one kind run in the order registered: servers start first and stop last.
  const [setUp, tearDown] = scope === 'each' ? [beforeEach, afterEach] : [before, after];
  if (!serversPerTest) before(startServers);
  setUp(async () => {
    if (serversPerTest) await startServers();
    const signer = await createSigner();
    parts = { signer, keyPrefix: `rl-${randomUUID()}` };
    if (events === 'bus') parts.bus = createMemoryKeyBus();
    else parts.stream = await createTestStream(suite.nats.url);
    for (let i = 0; i < instances; i++) await suite.start();
  });
  tearDown(() =>
    stopEach(
      () => stopEach(...verifiers.splice(0).map((v) => () => v.stop())),
      () => parts?.stream?.close(),
      () => (parts = undefined),
      () => (serversPerTest ? stopServers() : undefined),
    ),
  );
  if (!serversPerTest) after(stopServers);
  return suite;
}

/** A failure message showing the answer, for assertions on status and code. */
export function shown(res: { status: number; text: string }): string {
  return `HTTP ${res.status}: ${res.text}`;
}
