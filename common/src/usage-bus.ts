/**
 * The two ends of the usage stream, as interfaces akm owns (the domain never sees NATS types):
 * verifiers publish usage reports, the issuer consumes them. JetStream implements both in
 * production; {@link createMemoryUsageBus} stands in when no `NATS_URL` is configured.
 */
import type { UsageReport } from './usage.js';

/** Where a verifier sends its usage reports. */
export interface UsagePublisher {
  /**
   * Publishes one report and resolves once it is durably stored. The report id is the
   * de-duplication id: publishing the same report again stores it once. Rejects when the bus
   * cannot take it now; the caller keeps it and retries with the same id.
   */
  publish(report: UsageReport): Promise<void>;
}

/**
 * Applies one report; resolves once its counts are committed. A rejection leaves the report to
 * be delivered again later.
 */
export type UsageHandler = (report: UsageReport) => Promise<void> | void;

/** Where the issuer reads usage reports from: every report not yet applied, in order, then live ones. */
export interface UsageFeed {
  /** Starts delivering in the background (the bus may not be reachable yet). */
  start(handler: UsageHandler): void;
  /** Stops delivering; resolves once the report being applied (if any) is done. */
  stop(): Promise<void>;
}
