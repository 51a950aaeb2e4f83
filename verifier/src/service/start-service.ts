/**
 * The verifier service from already-built collaborators (key source, feed, limiter), so that
 * `main.ts` can run it alone and the root `main.ts` beside the issuer with the in-process bus.
 * It listens at once and answers 503 until the key stream is replayed.
 */
import { createLogger, listen, type TrustProxy } from '@akm/common';
import { createVerifier, type Verifier, type VerifierOptions } from '../create-verifier.js';
import { createVerifierApp } from './app.js';

/** Options of {@link startVerifierService}: the verifier's, plus where to listen. */
export interface VerifierServiceOptions extends VerifierOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Express's `trust proxy`: which proxies' `X-Forwarded-For` gives the client address. Default false. */
  trustProxy?: TrustProxy;
  /** Bearer token `/metrics` requires; unset serves clients on this host (loopback) only. */
  metricsToken?: string;
}

/** A running verifier service. */
export interface RunningVerifier {
  url: string;
  port: number;
  verifier: Verifier;
  /** Resolves once the key stream was replayed (the service is ready). */
  ready: Promise<void>;
  /**
   * Stops HTTP (letting in-flight requests finish), then the key stream consumer. The caller
   * then drains its NATS connection and quits its Redis client: it owns them.
   */
  stop(): Promise<void>;
}

/**
 * Starts the verifier service.
 * @example
 * const svc = await startVerifierService({ keys, feed: bus.createFeed(), port: 8081 });
 * await svc.ready;
 */
export async function startVerifierService(options: VerifierServiceOptions): Promise<RunningVerifier> {
  const logger = options.logger ?? createLogger({ name: 'akm-verifier' });
  const now = options.now ?? Date.now;
  const verifier = createVerifier({ ...options, logger, now });
  const app = createVerifierApp({ verifier, logger, now, trustProxy: options.trustProxy ?? false, metricsToken: options.metricsToken });
  const server = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  void options.keys.warmUp().then((ok) => {
    if (!ok) logger.warn({ jwks: options.keys.origin }, 'issuer keys not fetched yet; will retry on first use');
  });
  let stopped = false;
  const ready = verifier.start();
  // Stopping while still connecting or replaying ends the start; that is no failure.
  ready.catch((err: unknown) => {
    if (!stopped) logger.error({ err }, 'key stream replay failed; staying unready');
  });
  logger.info({ url: server.url }, 'verifier listening');
  return {
    url: server.url,
    port: server.port,
    verifier,
    ready,
    async stop() {
      stopped = true;
      await server.stop();
      await verifier.stop();
    },
  };
}
