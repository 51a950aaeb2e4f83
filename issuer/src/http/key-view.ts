/**
 * How a key's metadata is shown over the API (never the key string, except once at creation).
 */
import type { KeyRecord } from '../domain/key-record.js';

/** A key as the API shows it; `status` is `expired` for an active key past its expiry. */
export interface KeyView {
  id: string;
  sub: string;
  role: string;
  name: string | null;
  meta: Record<string, unknown> | null;
  rateLimit: number;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'disabled' | 'revoked' | 'expired';
}

/** The view of `record` at `nowMs`. */
export function keyView(record: KeyRecord, nowMs: number): KeyView {
  const expired = record.status === 'active' && record.expiresAt * 1000 <= nowMs;
  return {
    id: record.id,
    sub: record.sub,
    role: record.role,
    name: record.name,
    meta: record.meta,
    rateLimit: record.rateLimit,
    expiresAt: new Date(record.expiresAt * 1000).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    status: expired ? 'expired' : record.status,
  };
}
