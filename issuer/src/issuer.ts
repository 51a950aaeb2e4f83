/**
 * Wires the issuer: SQLite, signing keys, the key service, the outbox relay onto an event bus
 * (JetStream, or the in-process bus), the usage counts the verifiers report (over the same
 * bus), and the HTTP API. `startIssuer` resolves once it listens.
 */
import {
  ConfigError,
  createLogger,
  createMemoryKeyBus,
  createMemoryUsageBus,
  USAGE_OUTCOMES,
  connectNats,
  ensureKeyStream,
  listen,
  redisTlsOptions,
  DEFAULT_ISSUER,
  DEFAULT_KEY_AUDIENCE,
  type KeyEventPublisher,
  type Logger,
  type MemoryKeyBus,
  type NatsAuthOptions,
  type TrustProxy,
  type UsageFeed,
  type UsagePublisher,
} from '@akm/common';
import { Router } from 'express';
import { Redis } from 'ioredis';
import { createKeyService, type KeyService } from './domain/key-service.js';
import { createLoginGuard, type LoginGuardOptions } from './domain/login-guard.js';
import { LOCAL_ADMIN_SUB, mintSessionToken } from './domain/session-tokens.js';
import { createUserService, type UserService } from './domain/user-service.js';
import { openSigningKeys, type SigningKeys } from './domain/signing-keys.js';
import { createUsageService } from './domain/usage-service.js';
import { createJetStreamPublisher } from './events/jetstream-publisher.js';
import { createJetStreamUsageFeed } from './events/jetstream-usage-feed.js';
import { createOutboxRelay, type OutboxRelay } from './events/outbox-relay.js';
import { createUsageIngest } from './events/usage-ingest.js';
import { ensureUsageStream } from './events/usage-stream.js';
import { createIssuerApp } from './http/app.js';
import { createAuth } from './http/auth.js';
import { createConsoleRoutes } from './http/console-routes.js';
import { createKeyActivityRoutes } from './http/key-activity-routes.js';
import { createKeyRoutes } from './http/key-routes.js';
import { createOpenApiRoutes } from './http/openapi.js';
import { createSystemRoutes } from './http/system-routes.js';
import { createUserRoutes } from './http/user-routes.js';
import { createIssuerMetrics } from './metrics.js';
import { openIssuerDatabase, type IssuerDatabase } from './store/issuer-database.js';
import type { SqlClient } from './store/sql-client.js';
import {
  createPoolMetrics,
  createPoolRouter,
  createPoolService,
  createRedisPoolStore,
  createSqlitePoolStore,
  createPostgresPoolStore,
  DEFAULT_POOL_OPTIONS,
  type PoolOptions,
  type PoolService,
} from './pool/index.js';
import { createKeyHistoryRepository } from './store/key-history-repository.js';
import { createKeyRepository } from './store/key-repository.js';
import { createOutboxRepository } from './store/outbox-repository.js';
import { createPrivateKeyFiles } from './store/private-key-files.js';
import { createPrivateKeyRows } from './store/private-key-rows.js';
import { createPostgresLoginGuardStore } from './store/postgres-login-guard-store.js';
import { createPostgresOutboxLease } from './store/postgres-outbox-lease.js';
import { createSigningKeyRepository } from './store/signing-key-repository.js';
import { createSqlTransactor } from './store/sql-transactor.js';
import { isStorageFailure } from './store/storage-errors.js';
import { createInitialPasswordFile } from './store/initial-password-file.js';
import { recordIssuerUrl } from './store/issuer-url-file.js';
import { createUsageRepository } from './store/usage-repository.js';
import { createEndedSessionRepository } from './store/ended-session-repository.js';
import { createUserRepository } from './store/user-repository.js';

const DAY = 24 * 3600;

/** Options of {@link startIssuer}. */
export interface IssuerOptions {
  /** Directory of the SQLite database and generated signing keys. */
  dataDir: string;
  /** `postgres://…`: keep the data in PostgreSQL (shared by replicas) instead of SQLite. */
  databaseUrl?: string;
  /**
   * With `databaseUrl`: the secret (at least 32 characters) that the private signing keys are
   * encrypted under in the database; every replica needs the same one.
   */
  masterKey?: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  host?: string;
  /** `iss` of every token. Default `akm`. */
  issuer?: string;
  /** `aud` of API keys. Default `akm-api`. */
  audience?: string;
  signingKeyFile?: string;
  /** JetStream servers; without it (and without `publisher`) events go to an in-process bus. */
  natsUrl?: string;
  /** Credentials and CA for `natsUrl`. */
  natsAuth?: NatsAuthOptions;
  /** An event publisher to use instead of connecting (e.g. a shared in-process bus). */
  publisher?: KeyEventPublisher;
  streamReplicas?: number;
  /** Seconds. */
  maxKeyTtlSeconds?: number;
  defaultKeyTtlSeconds?: number;
  /** Longest grace period of a key roll, seconds. Default 7 days. */
  maxRollGraceSeconds?: number;
  sessionTtlSeconds?: number;
  /**
   * Password of the `admin` user created on first start. When unset a random one is generated
   * and kept in `dataDir/initial-admin-password` (0600) until someone signs in with it.
   */
  adminPassword?: string;
  /**
   * Receives the generated first admin password on first start, and again on every start until
   * someone signed in with it; by default it is printed to stderr.
   */
  onGeneratedAdminPassword?: (password: string, where: { file: string; firstStart: boolean }) => void;
  /** Redis for the token pool; without it the pool lives in SQLite. User and password go in the URL. */
  redisUrl?: string;
  /** PEM file of the CA that signed a `rediss://` server's certificate. */
  redisCaFile?: string;
  /** Token pool settings. */
  pool?: Partial<PoolOptions>;
  /** Limits of sign-in brute-force protection. */
  loginGuard?: LoginGuardOptions;
  /**
   * Which proxies' `X-Forwarded-For` gives the client address (sign-in limits, `/metrics`):
   * Express's `trust proxy` (a hop count, or addresses and CIDRs). Default false: the socket's.
   */
  trustProxy?: TrustProxy;
  /** Bearer token `/metrics` requires; unset serves clients on this host (loopback) only. */
  metricsToken?: string;
  logger?: Logger;
  /** The clock, milliseconds since epoch. */
  now?: () => number;
}

/** A running issuer. */
export interface RunningIssuer {
  url: string;
  port: number;
  /** The database (SQLite or PostgreSQL). */
  db: SqlClient;
  signing: SigningKeys;
  service: KeyService;
  users: UserService;
  pool: PoolService;
  relay: OutboxRelay;
  /** The in-process bus, when no NATS was configured. */
  memoryBus?: MemoryKeyBus;
  /** Where a verifier in this process sends its usage reports, when no NATS was configured. */
  usagePublisher?: UsagePublisher;
  /** A short-lived admin sign-in token, as `akm admin-token` mints it. */
  adminToken(): Promise<string>;
  /** Stops HTTP, flushes the outbox if the bus is up, then closes NATS and SQLite. */
  stop(): Promise<void>;
}

/** The master key a PostgreSQL issuer needs (the configuration requires it with DATABASE_URL). */
function masterKeyOf(options: IssuerOptions): string {
  if (!options.masterKey || options.masterKey.length < 32) {
    throw new ConfigError('AKM_MASTER_KEY: required with DATABASE_URL, at least 32 characters (the private signing keys are encrypted under it)');
  }
  return options.masterKey;
}

/** Prints the first admin's generated password to stderr (never to the log). */
function showInitialPassword(password: string, where: { file: string; firstStart: boolean }): void {
  const intro = where.firstStart
    ? 'First start: created user "admin" with password'
    : 'Nobody has signed in as "admin" yet; its password is';
  process.stderr.write(
    `\n${intro} ${password}\n(kept in ${where.file} until the first sign-in with it; set AKM_ADMIN_PASSWORD to choose it)\n\n`,
  );
}

/**
 * Starts the issuer. On SQLite, a data directory another running issuer holds refuses the start;
 * on PostgreSQL any number of issuers share the database.
 */
export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const logger = options.logger ?? createLogger({ name: 'akm-issuer' });
  const database = await openIssuerDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, logger });
  try {
    return await startOn(database, { ...options, logger });
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
}

async function startOn(database: IssuerDatabase, options: IssuerOptions & { logger: Logger }): Promise<RunningIssuer> {
  const now = options.now ?? Date.now;
  const { logger } = options;
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const audience = options.audience ?? DEFAULT_KEY_AUDIENCE;
  const maxKeyTtlSeconds = options.maxKeyTtlSeconds ?? 365 * DAY;
  const sessionTtlSeconds = options.sessionTtlSeconds ?? 900;

  const db = database.client;
  const transactor = createSqlTransactor(db);
  const signing = await openSigningKeys({
    records: createSigningKeyRepository(db),
    privateKeys: database.kind === 'postgres' ? createPrivateKeyRows(db, masterKeyOf(options)) : createPrivateKeyFiles(options.dataDir),
    keyFile: options.signingKeyFile,
    now,
    sessionTtlSeconds,
    prepublishNext: true,
  });

  let memoryBus: MemoryKeyBus | undefined;
  let publisher = options.publisher;
  if (!publisher && options.natsUrl) {
    const natsUrl = options.natsUrl;
    publisher = createJetStreamPublisher({
      connect: () => connectNats({ ...options.natsAuth, url: natsUrl, name: 'akm-issuer' }),
      // Events must outlive the longest key: the latest event of a key is what verifiers rebuild from.
      ensureStream: (nc) => ensureKeyStream(nc, { maxAgeSeconds: maxKeyTtlSeconds + DAY, replicas: options.streamReplicas }),
      logger,
    });
    logger.info({ nats: options.natsUrl }, 'publishing key events to JetStream');
  }
  if (!publisher) {
    memoryBus = createMemoryKeyBus();
    publisher = memoryBus.publisher;
    logger.warn('NATS_URL not set: key events go to an in-process bus (embedded mode, single process only)');
  }
  const bus = publisher;

  const keys = createKeyRepository(db);
  const outbox = createOutboxRepository(db);
  const guard = createLoginGuard({
    ...options.loginGuard,
    now,
    // On PostgreSQL the limits hold across replicas; one SQLite issuer counts in memory.
    ...(database.kind === 'postgres' ? { store: createPostgresLoginGuardStore(db, now) } : {}),
  });
  const metrics = createIssuerMetrics({
    backlog: () => outbox.backlog(),
    busConnected: () => bus.isConnected(),
    loginGuardEntries: () => guard.size(),
  });
  const relay = createOutboxRelay({
    outbox,
    // Replicas on PostgreSQL take turns: one publishes, the others stand by (SQLite has one issuer).
    ...(database.kind === 'postgres' ? { lease: createPostgresOutboxLease(database.client) } : {}),
    publisher: bus,
    logger,
    now,
    onPublished: () => metrics.eventsPublished.inc(),
  });
  const userRecords = createUserRepository(db);
  const service = createKeyService({
    transactor,
    keys,
    owners: userRecords,
    outbox,
    history: createKeyHistoryRepository(db),
    signing,
    issuer,
    audience,
    now,
    maxTtlSeconds: maxKeyTtlSeconds,
    defaultTtlSeconds: Math.min(options.defaultKeyTtlSeconds ?? 30 * DAY, maxKeyTtlSeconds),
    maxRollGraceSeconds: options.maxRollGraceSeconds ?? 7 * DAY,
    onChange: () => relay.notify(),
  });
  const users = createUserService({
    transactor,
    users: userRecords,
    keys: service,
    now,
    initialPassword: createInitialPasswordFile(options.dataDir),
  });
  const boot = await users.bootstrap(options.adminPassword);
  if (boot.pending) {
    const { password, location, firstStart } = boot.pending;
    (options.onGeneratedAdminPassword ?? showInitialPassword)(password, { file: location, firstStart });
  }
  if (boot.created) logger.info('created the first admin user "admin"');
  let redis: Redis | undefined;
  if (options.redisUrl) {
    redis = new Redis(options.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      ...redisTlsOptions(options.redisCaFile),
    });
    redis.on('error', () => undefined); // an outage answers 503 storage_failed per request; it is not a crash
    await redis.connect().catch((err: Error) => logger.warn({ err: err.message }, 'Redis not reachable yet; the token pool answers 503 until it is'));
  }
  const pool = createPoolService({
    store: redis
      ? createRedisPoolStore({ redis, prefix: 'akm:pool:', now })
      : database.kind === 'sqlite'
        ? createSqlitePoolStore({ db: database.client.db, exclusive: database.client.exclusive, now })
        : createPostgresPoolStore({ client: database.client, now }),
    options: { ...DEFAULT_POOL_OPTIONS, ...options.pool },
    logger,
    metrics: createPoolMetrics(metrics.registry),
  });

  // Usage comes from JetStream when NATS is configured, else from verifiers in this process.
  let usageFeed: UsageFeed;
  let usagePublisher: UsagePublisher | undefined;
  if (options.natsUrl) {
    const natsUrl = options.natsUrl;
    usageFeed = createJetStreamUsageFeed({
      connect: () => connectNats({ ...options.natsAuth, url: natsUrl, name: 'akm-issuer-usage' }),
      ensureStream: (nc) => ensureUsageStream(nc, { replicas: options.streamReplicas }),
      logger,
      onUnparseable: (detail, subject) => {
        metrics.usageReports.inc({ result: 'invalid' });
        logger.warn({ subject, detail }, 'terminated a usage message that is not a valid report');
      },
    });
  } else {
    const usageBus = createMemoryUsageBus();
    usageFeed = usageBus.feed;
    usagePublisher = usageBus.publisher;
  }
  const usage = createUsageService({
    transactor,
    usage: createUsageRepository(db),
    keyExists: async (id) => (await keys.get(id)) !== undefined,
    now,
  });
  const usageIngest = createUsageIngest({
    feed: usageFeed,
    service: usage,
    logger,
    onApplied: (applied) => {
      metrics.usageReports.inc({ result: applied.result });
      for (const outcome of USAGE_OUTCOMES) if (applied.added[outcome]) metrics.usageRequests.inc({ outcome }, applied.added[outcome]);
    },
  });

  const endedSessions = createEndedSessionRepository(db);
  const auth = createAuth({
    signing,
    keys: service,
    issuer,
    audience,
    now,
    owners: userRecords,
    acceptSession: async (claims) =>
      !(await endedSessions.isEnded(claims.jti)) &&
      ((claims.sub === LOCAL_ADMIN_SUB && claims.role === 'admin') || (await users.acceptsSession(claims.sub, claims.role, claims.sv))),
  });
  const app = createIssuerApp({
    logger,
    metrics,
    trustProxy: options.trustProxy ?? false,
    isStorageFailure,
    routers: [
      createSystemRoutes({
        signing,
        registry: metrics.registry,
        requireAdmin: auth.requireAdmin,
        metricsToken: options.metricsToken,
        readiness: {
          databaseKind: database.kind,
          checkDatabase: () => db.ping(),
          bus: () => (memoryBus ? 'in-process' : bus.isConnected() ? 'connected' : 'disconnected'),
          backlog: () => outbox.backlog(),
          poolStore: () => ({ kind: redis ? 'redis' : database.kind, ok: redis ? redis.status === 'ready' : true }),
        },
      }),
      createUserRoutes({
        users,
        keys: service,
        guard,
        endedSessions,
        signing,
        issuer,
        sessionTtlSeconds,
        requireAdmin: auth.requireAdmin,
        requireSession: auth.requireSession,
        now,
      }),
      createKeyRoutes({
        service,
        requireAdmin: auth.requireAdmin,
        requireApiKey: auth.requireApiKey,
        now,
        onIssued: () => metrics.keysIssued.inc(),
      }),
      createKeyActivityRoutes({
        keys: service,
        users,
        usage,
        requireAdmin: auth.requireAdmin,
        requireSession: auth.requireSession,
        now,
      }),
      createConsoleRoutes({ logger }),
      Router().use('/pool', createPoolRouter({ service: pool, requireAdmin: auth.requireAdmin, requireCaller: auth.requireCaller })),
      createOpenApiRoutes(),
    ],
  });

  relay.start();
  pool.start();
  await usageIngest.start();
  const server = await listen(app, options.port ?? 8080, options.host ?? '127.0.0.1');
  recordIssuerUrl(options.dataDir, server.url);
  logger.info({ url: server.url }, 'issuer listening');

  return {
    url: server.url,
    port: server.port,
    db,
    signing,
    service,
    users,
    pool,
    relay,
    ...(memoryBus ? { memoryBus } : {}),
    ...(usagePublisher ? { usagePublisher } : {}),
    async adminToken() {
      return (await mintSessionToken({ signing, issuer, sub: LOCAL_ADMIN_SUB, role: 'admin', ttlSeconds: sessionTtlSeconds, now: now() })).token;
    },
    async stop() {
      await server.stop();
      if (bus.isConnected() && !(await relay.flush(5000))) logger.warn('outbox not empty at shutdown; it is sent on next start');
      await relay.stop();
      await usageIngest.stop();
      await pool.stop();
      await bus.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
      await database.close();
      logger.info('issuer stopped');
    },
  };
}
