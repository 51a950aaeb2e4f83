/**
 * Builds the event that describes a key's state after a change.
 */
import { randomUUID } from 'node:crypto';
import { isDefaultLimits, type KeyEvent, type KeyEventType } from '@akm/common';
import type { KeyRecord } from './key-record.js';

/** The event of type `type` carrying `record`'s whole state, at `nowMs` (milliseconds since epoch). */
export function keyEventOf(record: KeyRecord, type: KeyEventType, nowMs: number, requestId?: string): KeyEvent {
  return {
    v: 2,
    id: randomUUID(),
    type,
    keyId: record.id,
    sub: record.sub,
    role: record.role,
    status: record.status,
    rateLimit: record.rateLimit,
    // Only when more than the one per-minute limit: events of keys without them stay as before.
    ...(isDefaultLimits(record.limits, record.rateLimit) ? {} : { limits: record.limits.map((l) => ({ ...l })) }),
    scopes: [...record.scopes],
    expiresAt: record.expiresAt,
    version: record.version,
    ...(record.credits !== null ? { credits: { ...record.credits } } : {}),
    ...(record.revokeAt !== null ? { revokeAt: record.revokeAt } : {}),
    ...(record.rolledTo !== null ? { rolledTo: record.rolledTo } : {}),
    ...(record.rolledFrom !== null ? { rolledFrom: record.rolledFrom } : {}),
    at: Math.floor(nowMs / 1000),
    ...(requestId ? { requestId } : {}),
  };
}

/** The event type of a change from `before` to `after`. */
export function changeType(before: KeyRecord, after: KeyRecord): KeyEventType {
  if (after.status === 'revoked') return 'key.revoked';
  if (after.rolledTo !== null && before.rolledTo === null) return 'key.rolled';
  if (before.status !== after.status) return after.status === 'disabled' ? 'key.disabled' : 'key.enabled';
  return 'key.updated';
}
