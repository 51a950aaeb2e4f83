/**
 * The `AKM_USAGE` stream, which the issuer creates: a work queue of usage reports on
 * `akm.usage.>`, each kept until the issuer applied it (or a week went by), with a two-minute
 * window in which a re-sent report id is dropped by the server.
 */
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { applyStream, USAGE_STREAM, USAGE_SUBJECTS, type NatsConnection } from '@akm/common';

/** Options of {@link ensureUsageStream}. */
export interface UsageStreamOptions {
  /** Stream replicas (1 for a single server, 3 for a cluster). */
  replicas?: number;
  /** How long a report waits for the issuer, seconds. Default 7 days. */
  maxAgeSeconds?: number;
}

/** Creates the usage stream, or updates its limits. */
export async function ensureUsageStream(nc: NatsConnection, options: UsageStreamOptions = {}): Promise<void> {
  await applyStream(nc, {
    name: USAGE_STREAM,
    subjects: [USAGE_SUBJECTS],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: (options.maxAgeSeconds ?? 7 * 86_400) * 1_000_000_000,
    duplicate_window: 120 * 1_000_000_000,
    num_replicas: options.replicas ?? 1,
  });
}
