/**
 * A {@link KeyEventPublisher} over JetStream: one subject per key, the event id as
 * `Nats-Msg-Id` so the server drops a duplicate of an event already stored. It owns its NATS
 * connection and opens it in the background, so the issuer starts (and keeps taking changes
 * into its outbox) while NATS is down.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import {
  encodeKeyEvent,
  keySubject,
  type KeyEventPublisher,
  type Logger,
  type NatsConnection,
} from '@akm/common';

/** Options of {@link createJetStreamPublisher}. */
export interface JetStreamPublisherOptions {
  /** Opens the connection; retried every `retryMs` until it succeeds. */
  connect: () => Promise<NatsConnection>;
  /** Creates or updates the stream once connected. */
  ensureStream: (nc: NatsConnection) => Promise<void>;
  logger: Logger;
  /** How long to wait for the stream's ack, ms. */
  timeoutMs?: number;
  retryMs?: number;
}

/** Creates the publisher and starts connecting. */
export function createJetStreamPublisher(options: JetStreamPublisherOptions): KeyEventPublisher {
  const retryMs = options.retryMs ?? 1000;
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let connected = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const listeners: Array<() => void> = [];
  const connectedNow = () => {
    connected = true;
    for (const listener of listeners) listener();
  };

  const watch = async (conn: NatsConnection) => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') connected = false;
      else if (s.type === 'reconnect') connectedNow();
    }
  };

  const open = async () => {
    if (closed) return;
    try {
      const conn = await options.connect();
      if (closed) return void (await conn.close());
      await options.ensureStream(conn);
      nc = conn;
      js = jetstream(conn, { timeout: options.timeoutMs ?? 2000 });
      watch(conn).catch(() => undefined);
      options.logger.info('connected to NATS JetStream');
      connectedNow();
    } catch (err) {
      options.logger.warn({ err: (err as Error).message }, `NATS not reachable; retrying in ${retryMs} ms`);
      timer = setTimeout(() => void open(), retryMs);
    }
  };
  void open();

  return {
    async publish(event) {
      if (!js) throw new Error('not connected to NATS yet');
      // While the client reconnects it would hold the request until its time-out (2 s) and the
      // relay would then sleep its back-off; failing now lets the reconnect wake the relay instead.
      if (!connected) throw new Error('disconnected from NATS');
      await js.publish(keySubject(event.keyId), encodeKeyEvent(event), { msgID: event.id });
    },
    isConnected: () => connected,
    onConnected(listener) {
      listeners.push(listener);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await nc?.drain().catch(() => undefined);
    },
  };
}
