/**
 * Usage reports: what a verifier publishes, every few seconds, about the requests it decided:
 * per key and per minute, how many were served and how many refused, by outcome. Validated on
 * both ends, like key events. Never one message per request.
 */
import { z } from 'zod';

/** JetStream stream holding usage reports (a work queue the issuer consumes). */
export const USAGE_STREAM = 'AKM_USAGE';
/** Subject prefix: one subject per reporting verifier, `akm.usage.<source>`. */
export const USAGE_SUBJECT_PREFIX = 'akm.usage.';
/** Wildcard that matches every usage subject. */
export const USAGE_SUBJECTS = `${USAGE_SUBJECT_PREFIX}>`;

/**
 * Outcomes counted per key. A request is counted once its key is known (its signature checked):
 * `served`, refused over its limit (`rate_limited`), refused with no credits left
 * (`credits_exhausted`), refused for its role or a scope (`forbidden`), or refused because the key
 * is `revoked`, `disabled` or `expired`. Requests without a key whose
 * signature holds (missing, malformed or forged keys) belong to no key and are not counted here.
 */
export const USAGE_OUTCOMES = ['served', 'rate_limited', 'credits_exhausted', 'forbidden', 'revoked', 'disabled', 'expired'] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

/** Requests of one key in one period, by outcome. */
export type UsageCounts = Record<UsageOutcome, number>;

/** A verifier's name as a subject token: letters, digits, `_` and `-`. */
const SOURCE = /^[A-Za-z0-9_-]{1,100}$/;

/** Subject of one verifier's usage reports. */
export function usageSubject(source: string): string {
  return `${USAGE_SUBJECT_PREFIX}${source}`;
}

const count = z.number().int().nonnegative().max(2 ** 31);
const countsSchema = z.strictObject(
  Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, count.optional()])) as Record<UsageOutcome, z.ZodOptional<typeof count>>,
);

/** Schema of a usage report, version 1. */
export const usageReportSchema = z.strictObject({
  v: z.literal(1),
  /** Unique per report: the JetStream `Nats-Msg-Id`, and what the issuer de-duplicates on. */
  id: z.string().min(1).max(200),
  /** The reporting verifier instance (a subject token). */
  source: z.string().regex(SOURCE),
  minutes: z
    .array(
      z.strictObject({
        /** Start of the minute, seconds since epoch (a multiple of 60). */
        at: z.number().int().nonnegative().refine((s) => s % 60 === 0, 'must be the start of a minute'),
        /** Counts by key id; outcomes with no request are left out. */
        keys: z.record(z.string().min(1).max(64), countsSchema),
      }),
    )
    .max(10_000),
});

/** A validated usage report. */
export type UsageReport = z.infer<typeof usageReportSchema>;

/** Result of parsing a raw report: expected failures are data. */
export type ParsedUsageReport = { ok: true; report: UsageReport } | { ok: false; error: string };

const utf8 = new TextDecoder();

/** Parses and validates a usage report from its JSON bytes or text. */
export function parseUsageReport(raw: Uint8Array | string): ParsedUsageReport {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : utf8.decode(raw));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = usageReportSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { ok: true, report: parsed.data };
}

/** Serialises a report for the wire. */
export function encodeUsageReport(report: UsageReport): string {
  return JSON.stringify(report);
}

/** Whether `source` can name a verifier in a usage subject. */
export function isUsageSource(source: string): boolean {
  return SOURCE.test(source);
}
