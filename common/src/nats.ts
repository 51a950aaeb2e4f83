/**
 * NATS connection and the `AKM_KEYS` stream definition, shared by the issuer (which publishes)
 * and the verifiers (which consume).
 */
import { readFileSync } from 'node:fs';
import { AuthorizationError, connect, credsAuthenticator, UserAuthenticationExpiredError, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { KEY_STREAM, KEY_SUBJECTS } from './events.js';

export type { NatsConnection };

/** How a client proves who it is to NATS, and which servers it trusts: at most one credential. */
export interface NatsAuthOptions {
  /** A `.creds` file (user JWT and NKey seed, as `nsc` writes it). */
  credsFile?: string;
  /** User and password of a user in the server's configuration. */
  user?: string;
  password?: string;
  /** A token in the server's configuration. */
  token?: string;
  /**
   * PEM file of the CA that signed the servers' certificates. Setting it (or a `tls://` URL)
   * requires TLS: the client refuses a server that does not offer it.
   */
  caFile?: string;
}

/** Options of {@link connectNats}. */
export interface ConnectNatsOptions extends NatsAuthOptions {
  /** One or more comma-separated server URLs (`nats://` or `tls://`). */
  url: string;
  /** Client name shown by the server. */
  name: string;
  /** Milliseconds to wait for the first connection. */
  timeoutMs?: number;
}

/**
 * Connects to NATS and keeps reconnecting forever after a loss (the outbox and the verifiers'
 * staleness bound decide what happens meanwhile, not the connection).
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const servers = options.url.split(',').map((s) => s.trim());
  const tls = options.caFile !== undefined || servers.some((s) => /^tls:\/\//i.test(s));
  return connect({
    servers,
    name: options.name,
    timeout: options.timeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5000,
    ...(options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.credsFile !== undefined ? { authenticator: credsAuthenticator(readFileSync(options.credsFile)) } : {}),
    ...(tls ? { tls: options.caFile !== undefined ? { caFile: options.caFile } : {} } : {}),
  });
}

/**
 * True when NATS refused the client's credentials (a wrong user or password, token or creds
 * file, or expired ones): a setting to fix, unlike a server that is not reachable yet.
 */
export function isNatsAuthError(err: unknown): boolean {
  return err instanceof AuthorizationError || err instanceof UserAuthenticationExpiredError;
}

/** Options of {@link connectNatsRetrying}. */
export interface RetryingConnectOptions extends ConnectNatsOptions {
  /** Milliseconds between a failed attempt and the next. Default 1000. */
  retryMs?: number;
  /** Wait `retryMs` before the first attempt too (one was just made and failed). Default false. */
  waitFirst?: boolean;
  /** Called once per failed attempt with its reason (the error's message, never a stack). */
  onRetry?: (reason: string) => void;
  /** Aborting it stops the attempts; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * {@link connectNats}, retried every `retryMs` until it succeeds or `signal` is aborted: a
 * process that needs NATS may start before NATS does (compose, a rolling restart) and must
 * then wait for it rather than die.
 */
export async function connectNatsRetrying(options: RetryingConnectOptions): Promise<NatsConnection> {
  const { retryMs = 1000, onRetry, signal, waitFirst = false, ...connectOptions } = options;
  if (waitFirst) await sleep(retryMs, signal);
  for (;;) {
    signal?.throwIfAborted();
    try {
      const nc = await connectNats(connectOptions);
      if (!signal?.aborted) return nc;
      await nc.close();
    } catch (err) {
      signal?.throwIfAborted();
      onRetry?.((err as Error).message);
    }
    await sleep(retryMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Options of {@link ensureKeyStream}. */
export interface KeyStreamOptions {
  /** How long a stored event is kept, in seconds: at least the longest key lifetime. */
  maxAgeSeconds: number;
  /** Stream replicas (1 for a single server, 3 for a cluster). */
  replicas?: number;
  /** Stream name; `AKM_KEYS` unless a test isolates itself. */
  stream?: string;
  /** Subject wildcard; `akm.keys.*` unless a test isolates itself. */
  subjects?: string;
}

/**
 * Creates the key stream, or updates its limits: the latest message per key subject, kept for
 * at least `maxAgeSeconds`, with a two-minute de-duplication window on `Nats-Msg-Id`.
 */
export async function ensureKeyStream(nc: NatsConnection, options: KeyStreamOptions): Promise<void> {
  const name = options.stream ?? KEY_STREAM;
  const config = {
    name,
    subjects: [options.subjects ?? KEY_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    max_age: options.maxAgeSeconds * 1_000_000_000,
    duplicate_window: 120 * 1_000_000_000,
    num_replicas: options.replicas ?? 1,
  };
  await applyStream(nc, config);
}

/** Creates a stream, or updates the one of that name to `config`. */
export async function applyStream(nc: NatsConnection, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      await jsm.streams.add(config);
      return;
    }
    throw err;
  }
}
