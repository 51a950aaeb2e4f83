/**
 * A {@link UsagePublisher} over JetStream: each report on the reporting verifier's subject,
 * `akm.usage.<source>`, with the report id as `Nats-Msg-Id` so the server stores a re-sent
 * report once (within its duplicate window; the issuer also ignores a report id it applied).
 */
import { jetstream } from '@nats-io/jetstream';
import { encodeUsageReport, usageSubject, type NatsConnection, type UsagePublisher } from '@akm/common';

/** Options of {@link createJetStreamUsagePublisher}. */
export interface JetStreamUsagePublisherOptions {
  /** A connection from `connectNats`; the publisher does not close it. */
  nc: NatsConnection;
  /** How long to wait for the stream's acknowledgement, ms. Default 2000. */
  timeoutMs?: number;
}

/**
 * Creates a publisher of usage reports into the `AKM_USAGE` stream (which the issuer creates).
 * @example
 * const verifier = createVerifier({ keys, feed, usage: createJetStreamUsagePublisher({ nc }) });
 */
export function createJetStreamUsagePublisher(options: JetStreamUsagePublisherOptions): UsagePublisher {
  const js = jetstream(options.nc, { timeout: options.timeoutMs ?? 2000 });
  return {
    async publish(report) {
      await js.publish(usageSubject(report.source), encodeUsageReport(report), { msgID: report.id });
    },
  };
}
