/**
 * The verifier's Prometheus metrics, on a registry of its own (no global state): outcomes by
 * reason, verification latency, key-state entries, stream staleness, Redis fallbacks and
 * key events dropped as bad.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KeyEventRejectionReason } from '@akm/common';
import type { Outcome } from './domain/verdict.js';

/** Metrics of one verifier instance. */
export interface VerifierMetrics {
  registry: Registry;
  /** Counts one protected request and how long deciding it took, in seconds. */
  observe(outcome: Outcome, seconds: number): void;
  /** Counts a request counted in memory because Redis could not be used. */
  redisFallback(): void;
  /** Counts a key-stream message dropped instead of applied, by why. */
  badEvent(reason: KeyEventRejectionReason): void;
  /** Counts one attempt to publish a usage report. */
  usageReport(result: 'sent' | 'failed'): void;
  /** Counts requests whose usage could not be reported (bus down too long, or at shutdown). */
  usageLost(requests: number): void;
  /** Where the gauges read from, set once the verifier is built. */
  track(sources: { keyStateEntries: () => number; stalenessSeconds: () => number; replayed: () => boolean }): void;
}

/** Creates the metrics of a verifier on a new registry (or the one given). */
export function createVerifierMetrics(registry = new Registry()): VerifierMetrics {
  let sources = { keyStateEntries: () => 0, stalenessSeconds: () => 0, replayed: () => false };
  const outcomes = new Counter({
    name: 'akm_verifier_requests_total',
    help: 'Protected requests by outcome (ok or the refusal reason).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'akm_verifier_decision_seconds',
    help: 'Time to decide a protected request (key check, state, rate limit), in seconds.',
    labelNames: ['outcome'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'akm_verifier_redis_fallbacks_total',
    help: 'Rate-limit calls answered from per-instance memory because Redis could not be used.',
    registers: [registry],
  });
  const badEvents = new Counter({
    name: 'akm_verifier_bad_events_total',
    help: 'Key-stream messages dropped instead of applied, by reason (unparseable, wrong_subject, expiry_out_of_range).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const usageReports = new Counter({
    name: 'akm_verifier_usage_reports_total',
    help: 'Usage reports published (sent) or refused by the bus and kept for the next flush (failed).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const usageLost = new Counter({
    name: 'akm_verifier_usage_lost_requests_total',
    help: 'Requests whose per-key usage could not be reported (bus down for too long, or at shutdown).',
    registers: [registry],
  });
  new Gauge({
    name: 'akm_verifier_key_state_entries',
    help: 'Keys whose state the verifier holds in memory.',
    registers: [registry],
    collect() {
      this.set(sources.keyStateEntries());
    },
  });
  new Gauge({
    name: 'akm_verifier_stream_staleness_seconds',
    help: 'Seconds since the last contact with the key stream (0 while connected).',
    registers: [registry],
    collect() {
      this.set(sources.stalenessSeconds());
    },
  });
  new Gauge({
    name: 'akm_verifier_stream_replayed',
    help: '1 once the key stream was replayed at start-up.',
    registers: [registry],
    collect() {
      this.set(sources.replayed() ? 1 : 0);
    },
  });

  return {
    registry,
    observe(outcome, seconds) {
      outcomes.inc({ outcome });
      latency.observe({ outcome }, seconds);
    },
    redisFallback: () => fallbacks.inc(),
    badEvent: (reason) => badEvents.inc({ reason }),
    usageReport: (result) => usageReports.inc({ result }),
    usageLost: (requests) => usageLost.inc(requests),
    track(s) {
      sources = s;
    },
  };
}
