/**
 * The issuer's {@link UsageFeed} over JetStream: a durable consumer of the `AKM_USAGE` work
 * queue. A report is acknowledged only after its counts were committed, so a restarted issuer
 * resumes where it stopped; one delivered twice (an acknowledgement lost in a crash) is
 * recognised by its id and adds nothing. A message that is not a valid report is terminated and
 * counted, never retried. The feed owns its NATS connection and opens it in the background, so
 * the issuer starts while NATS is down.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages } from '@nats-io/jetstream';
import { parseUsageReport, USAGE_STREAM, type Logger, type NatsConnection, type UsageFeed } from '@akm/common';

/** Name of the issuer's durable consumer of the usage stream. */
export const USAGE_CONSUMER = 'akm-issuer-usage';

/** Options of {@link createJetStreamUsageFeed}. */
export interface JetStreamUsageFeedOptions {
  /** Opens the connection; retried every `retryMs` until it succeeds. */
  connect: () => Promise<NatsConnection>;
  /** Creates or updates the usage stream once connected. */
  ensureStream: (nc: NatsConnection) => Promise<void>;
  logger: Logger;
  /** Milliseconds between attempts while NATS or the stream is unavailable, and before a failed report is redelivered. Default 1000. */
  retryMs?: number;
  /** Called for every message that is not a valid usage report. */
  onUnparseable?: (detail: string, subject: string) => void;
}

/** Creates the feed; `start` begins consuming in the background. */
export function createJetStreamUsageFeed(options: JetStreamUsageFeedOptions): UsageFeed {
  const retryMs = options.retryMs ?? 1000;
  const { logger } = options;
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function ensureConsumer(conn: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(conn);
    try {
      await jsm.consumers.info(USAGE_STREAM, USAGE_CONSUMER);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
      await jsm.consumers.add(USAGE_STREAM, {
        durable_name: USAGE_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        // After a crash, the reports it had been given come again this long after; applying one twice adds nothing.
        ack_wait: 10 * 1_000_000_000,
        max_ack_pending: 1000,
      });
    }
  }

  return {
    start(handler) {
      loop ??= (async () => {
        let failing = false;
        while (!stopped) {
          try {
            nc ??= await options.connect();
            await options.ensureStream(nc);
            await ensureConsumer(nc);
            const consumer = await jetstream(nc).consumers.get(USAGE_STREAM, USAGE_CONSUMER);
            if (stopped) break;
            messages = await consumer.consume({ max_messages: 100 });
            if (failing) logger.info('consuming usage reports again');
            failing = false;
            for await (const msg of messages) {
              const parsed = parseUsageReport(msg.data);
              if (!parsed.ok) {
                msg.term();
                options.onUnparseable?.(parsed.error, msg.subject);
                continue;
              }
              try {
                await handler(parsed.report);
              } catch (err) {
                logger.warn({ err: (err as Error).message, report: parsed.report.id }, 'usage report not applied; it is delivered again');
                msg.nak(retryMs);
                continue;
              }
              msg.ack();
            }
            // The iteration ends only when the messages are closed: by stop(), or under us.
            if (!stopped) await sleep(retryMs);
          } catch (err) {
            if (stopped) break;
            if (!failing) logger.warn({ err: (err as Error).message }, `usage stream not available; retrying every ${retryMs} ms`);
            failing = true;
            await sleep(retryMs);
          }
        }
      })();
    },
    async stop() {
      stopped = true;
      wake?.();
      await messages?.close().catch(() => undefined);
      await loop;
      await nc?.drain().catch(() => undefined);
    },
  };
}
