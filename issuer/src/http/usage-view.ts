/**
 * How usage is shown over the API: periods and totals with ISO 8601 times, a count per outcome.
 */
import { defaultLimits, type KeyEvent, type UsageCounts } from '@akm/common';
import type { KeyRecord } from '../domain/key-record.js';
import type { KeyUsage, TopUsage } from '../domain/usage-service.js';
import type { z } from 'zod';
import { keyView, type KeyView } from './key-view.js';
import type { keyEventPageSchema, keyUsageSchema, topUsageSchema } from './response-schemas.js';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** One period of a key's usage: its start and a count per outcome. */
export type UsageItemView = { at: string } & UsageCounts;

/** A key's usage as `GET …/keys/:id/usage` answers it. */
export type KeyUsageView = z.infer<typeof keyUsageSchema>;

/** The view of a key's usage. */
export function keyUsageView(keyId: string, usage: KeyUsage): KeyUsageView {
  return {
    keyId,
    granularity: usage.granularity,
    from: iso(usage.from),
    to: iso(usage.to),
    items: usage.items.map((b) => ({ at: iso(b.at), ...b.counts })),
    totals: usage.totals,
  };
}

/** One of the busiest keys: the key as listed, and its counts over the window. */
export type TopItemView = Pick<KeyView, 'id' | 'sub' | 'name' | 'status'> & UsageCounts;

/** The view of the busiest keys; `keyOf` reads a key's metadata. */
export function topUsageView(
  top: TopUsage,
  by: z.infer<typeof topUsageSchema>['by'],
  keyOf: (id: string) => KeyRecord | undefined,
  nowMs: number,
): z.infer<typeof topUsageSchema> {
  const items: TopItemView[] = [];
  for (const { keyId, counts } of top.items) {
    const record = keyOf(keyId);
    if (!record) continue;
    const { id, sub, name, status } = keyView(record, nowMs);
    items.push({ id, sub, name, status, ...counts });
  }
  return { by, from: iso(top.from), to: iso(top.to), items };
}

/** A key event as `GET …/keys/:id/events` answers it (times in ISO 8601). */
export function keyEventView(event: KeyEvent): z.infer<typeof keyEventPageSchema>['items'][number] {
  return {
    id: event.id,
    type: event.type,
    at: iso(event.at),
    version: event.version,
    status: event.status,
    role: event.role,
    rateLimit: event.rateLimit,
    limits: event.limits ?? defaultLimits(event.rateLimit),
    expiresAt: iso(event.expiresAt),
    requestId: event.requestId ?? null,
  };
}
