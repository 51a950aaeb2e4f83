/**
 * How a key's metadata is shown over the API (never the key string, except once at creation).
 */
import type { z } from 'zod';
import type { KeyRecord } from '../domain/key-record.js';
import type { keyViewSchema } from './response-schemas.js';

/** A key as the API shows it; `status` is `expired` for an active key past its expiry. */
export type KeyView = z.infer<typeof keyViewSchema>;

/** The view of `record` at `nowMs`. */
export function keyView(record: KeyRecord, nowMs: number): KeyView {
  const rolledOut = record.revokeAt !== null && record.revokeAt * 1000 <= nowMs;
  const expired = record.status === 'active' && record.expiresAt * 1000 <= nowMs;
  return {
    id: record.id,
    sub: record.sub,
    ownerId: record.ownerId,
    role: record.role,
    name: record.name,
    // Stored as given to POST /admin/keys, whose schema allows these value types only.
    meta: record.meta as KeyView['meta'],
    rateLimit: record.rateLimit,
    limits: record.limits.map((l) => ({ ...l })),
    scopes: [...record.scopes],
    credits:
      record.credits === null
        ? null
        : {
            granted: record.credits.remaining,
            grantedAt: new Date(record.credits.grantedAt * 1000).toISOString(),
            ...(record.credits.refill ? { refill: { ...record.credits.refill } } : {}),
          },
    expiresAt: new Date(record.expiresAt * 1000).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    status: rolledOut ? 'revoked' : expired ? 'expired' : record.status,
    revokeAt: record.revokeAt === null ? null : new Date(record.revokeAt * 1000).toISOString(),
    rolledTo: record.rolledTo,
    rolledFrom: record.rolledFrom,
  };
}
