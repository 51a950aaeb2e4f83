/**
 * Key metadata in the database. The key string itself is never stored: a copy of the database reveals
 * no usable key.
 */
import { defaultLimits, isDefaultLimits, type CreditGrant, type KeyStatus, type RateLimitSpec, type Role } from '@akm/common';
import type { KeyRecord, KeyRepository } from '../domain/key-record.js';
import type { SqlClient, SqlValue } from './sql-client.js';

/** First half of the advisory lock on one owner's keys (the second is a hash of the owner id). */
const OWNER_KEYS_LOCK = 0x616b6d05;

interface KeyRow {
  seq: number;
  id: string;
  sub: string;
  owner_id: string | null;
  role: Role;
  name: string | null;
  meta: string | null;
  rate_limit: number;
  scopes: string;
  limits: string | null;
  revoke_at: number | null;
  credits: string | null;
  rolled_to: string | null;
  rolled_from: string | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
  status: KeyStatus;
  version: number;
  kid: string;
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    sub: row.sub,
    ownerId: row.owner_id,
    role: row.role,
    name: row.name,
    meta: row.meta === null ? null : (JSON.parse(row.meta) as Record<string, unknown>),
    rateLimit: row.rate_limit,
    limits: row.limits === null ? defaultLimits(row.rate_limit) : (JSON.parse(row.limits) as RateLimitSpec[]),
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status: row.status,
    version: row.version,
    kid: row.kid,
    revokeAt: row.revoke_at,
    credits: row.credits === null ? null : (JSON.parse(row.credits) as CreditGrant),
    rolledTo: row.rolled_to,
    rolledFrom: row.rolled_from,
  };
}

/** The `limits` column: NULL for the one per-minute limit of `rate_limit`. */
function limitsColumn(record: KeyRecord): string | null {
  return isDefaultLimits(record.limits, record.rateLimit) ? null : JSON.stringify(record.limits);
}

const creditsColumn = (record: KeyRecord) => (record.credits === null ? null : JSON.stringify(record.credits));

const COLUMNS =
  'id, sub, owner_id, role, name, meta, rate_limit, scopes, limits, expires_at, created_at, updated_at, status, version, kid, revoke_at, rolled_to, rolled_from, credits';

/** Creates the key repository over a database client. */
export function createKeyRepository(db: SqlClient): KeyRepository {
  return {
    async insert(r) {
      await db.run(`INSERT INTO keys (${COLUMNS}) VALUES (${COLUMNS.split(',').map(() => '?').join(', ')})`, [
        r.id, r.sub, r.ownerId, r.role, r.name, r.meta === null ? null : JSON.stringify(r.meta),
        r.rateLimit, r.scopes.join(' '), limitsColumn(r), r.expiresAt, r.createdAt, r.updatedAt, r.status, r.version, r.kid,
        r.revokeAt, r.rolledTo, r.rolledFrom, creditsColumn(r),
      ]);
    },
    async get(id) {
      const row = await db.get<KeyRow>('SELECT * FROM keys WHERE id = ?', [id]);
      return row && toRecord(row);
    },
    async list(query) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (query.sub !== undefined) {
        where.push('sub = ?');
        params.push(query.sub);
      }
      if (query.ownerId !== undefined) {
        where.push('owner_id = ?');
        params.push(query.ownerId);
      }
      // A rolled key past its revocation time is revoked, though no change was stored then.
      const rolledOut = '(revoke_at IS NOT NULL AND revoke_at <= ?)';
      const now = query.nowSeconds;
      if (query.status === 'expired') {
        where.push(`status = 'active' AND expires_at <= ? AND NOT ${rolledOut}`);
        params.push(now, now);
      } else if (query.status === 'active') {
        where.push(`status = 'active' AND expires_at > ? AND NOT ${rolledOut}`);
        params.push(now, now);
      } else if (query.status === 'revoked') {
        where.push(`(status = 'revoked' OR ${rolledOut})`);
        params.push(now);
      } else if (query.status === 'disabled') {
        where.push(`status = 'disabled' AND NOT ${rolledOut}`);
        params.push(now);
      } else if (query.status !== undefined) {
        where.push('status = ?');
        params.push(query.status);
      }
      if (query.beforeSeq !== undefined) {
        where.push('seq < ?');
        params.push(query.beforeSeq);
      }
      const sql = `SELECT * FROM keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
      const rows = await db.all<KeyRow>(sql, [...params, query.limit + 1]);
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return { items: page.map(toRecord), next: rows.length > query.limit && last ? last.seq : undefined };
    },
    async update(r) {
      // Only over the version it was read at: of two changes made at once, the second finds none.
      const changed = await db.run(
        `UPDATE keys SET rate_limit = ?, limits = ?, expires_at = ?, updated_at = ?, status = ?, version = ?, revoke_at = ?, rolled_to = ?,
           credits = ? WHERE id = ? AND version = ?`,
        [r.rateLimit, limitsColumn(r), r.expiresAt, r.updatedAt, r.status, r.version, r.revokeAt, r.rolledTo, creditsColumn(r), r.id, r.version - 1],
      );
      return changed === 1;
    },
    async liveKeysOf(ownerId) {
      const rows = await db.all<KeyRow>("SELECT * FROM keys WHERE owner_id = ? AND status IN ('active', 'disabled') ORDER BY seq", [ownerId]);
      return rows.map(toRecord);
    },
    async holdOwner(ownerId) {
      // SQLite: the write transaction (BEGIN IMMEDIATE) already keeps every other writer out.
      // PostgreSQL: a transaction lock on the owner, in the two-key space (apart from the
      // single-key locks of the outbox lease, the pool and the sign-in guard).
      if (db.dialect === 'postgres') await db.get('SELECT pg_advisory_xact_lock(?, hashtext(?))', [OWNER_KEYS_LOCK, ownerId]);
    },
  };
}
