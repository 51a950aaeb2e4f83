/**
 * Key metadata in the database. The key string itself is never stored: a copy of the database reveals
 * no usable key.
 */
import type { KeyStatus, Role } from '@akm/common';
import type { KeyRecord, KeyRepository } from '../domain/key-record.js';
import type { SqlClient, SqlValue } from './sql-client.js';

interface KeyRow {
  seq: number;
  id: string;
  sub: string;
  owner_id: string | null;
  role: Role;
  name: string | null;
  meta: string | null;
  rate_limit: number;
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
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status: row.status,
    version: row.version,
    kid: row.kid,
  };
}

const COLUMNS = 'id, sub, owner_id, role, name, meta, rate_limit, expires_at, created_at, updated_at, status, version, kid';

/** Creates the key repository over a database client. */
export function createKeyRepository(db: SqlClient): KeyRepository {
  return {
    async insert(r) {
      await db.run(`INSERT INTO keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        r.id, r.sub, r.ownerId, r.role, r.name, r.meta === null ? null : JSON.stringify(r.meta),
        r.rateLimit, r.expiresAt, r.createdAt, r.updatedAt, r.status, r.version, r.kid,
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
      if (query.status === 'expired') {
        where.push("status = 'active' AND expires_at <= ?");
        params.push(query.nowSeconds);
      } else if (query.status === 'active') {
        where.push("status = 'active' AND expires_at > ?");
        params.push(query.nowSeconds);
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
        'UPDATE keys SET rate_limit = ?, expires_at = ?, updated_at = ?, status = ?, version = ? WHERE id = ? AND version = ?',
        [r.rateLimit, r.expiresAt, r.updatedAt, r.status, r.version, r.id, r.version - 1],
      );
      return changed === 1;
    },
    async liveKeysOf(ownerId) {
      const rows = await db.all<KeyRow>("SELECT * FROM keys WHERE owner_id = ? AND status IN ('active', 'disabled') ORDER BY seq", [ownerId]);
      return rows.map(toRecord);
    },
  };
}
