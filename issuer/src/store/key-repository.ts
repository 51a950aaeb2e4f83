/**
 * Key metadata in SQLite. The key string itself is never stored: a copy of the database reveals
 * no usable key.
 */
import { defaultLimits, isDefaultLimits, type CreditGrant, type KeyStatus, type RateLimitSpec, type Role } from '@akm/common';
import type { KeyRecord, KeyRepository } from '../domain/key-record.js';
import type { Db } from './database.js';

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

/** Creates the key repository over an open database. */
export function createKeyRepository(db: Db): KeyRepository {
  const insert = db.prepare(
    `INSERT INTO keys (id, sub, owner_id, role, name, meta, rate_limit, scopes, limits, expires_at, created_at, updated_at, status, version, kid,
       revoke_at, rolled_to, rolled_from, credits)
     VALUES (@id, @sub, @ownerId, @role, @name, @meta, @rateLimit, @scopes, @limits, @expiresAt, @createdAt, @updatedAt, @status, @version, @kid,
       @revokeAt, @rolledTo, @rolledFrom, @credits)`,
  );
  const get = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE id = ?');
  const update = db.prepare(
    `UPDATE keys SET rate_limit = @rateLimit, limits = @limits, expires_at = @expiresAt, updated_at = @updatedAt,
       status = @status, version = @version, revoke_at = @revokeAt, rolled_to = @rolledTo, credits = @credits WHERE id = @id`,
  );
  const liveOf = db.prepare<[string], KeyRow>(
    "SELECT * FROM keys WHERE owner_id = ? AND status IN ('active', 'disabled') ORDER BY seq",
  );

  return {
    insert(record) {
      insert.run({
        ...record,
        meta: record.meta === null ? null : JSON.stringify(record.meta),
        scopes: record.scopes.join(' '),
        limits: limitsColumn(record),
        credits: record.credits === null ? null : JSON.stringify(record.credits),
      });
    },
    get(id) {
      const row = get.get(id);
      return row && toRecord(row);
    },
    list(query) {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: query.limit + 1, now: query.nowSeconds };
      if (query.sub !== undefined) {
        where.push('sub = @sub');
        params.sub = query.sub;
      }
      if (query.ownerId !== undefined) {
        where.push('owner_id = @ownerId');
        params.ownerId = query.ownerId;
      }
      // A rolled key past its revocation time is revoked, though no change was stored then.
      const rolledOut = '(revoke_at IS NOT NULL AND revoke_at <= @now)';
      if (query.status === 'expired') where.push(`status = 'active' AND expires_at <= @now AND NOT ${rolledOut}`);
      else if (query.status === 'active') where.push(`status = 'active' AND expires_at > @now AND NOT ${rolledOut}`);
      else if (query.status === 'revoked') where.push(`(status = 'revoked' OR ${rolledOut})`);
      else if (query.status === 'disabled') where.push(`status = 'disabled' AND NOT ${rolledOut}`);
      else if (query.status !== undefined) {
        where.push('status = @status');
        params.status = query.status;
      }
      if (query.beforeSeq !== undefined) {
        where.push('seq < @before');
        params.before = query.beforeSeq;
      }
      const sql = `SELECT * FROM keys ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
      const rows = db.prepare<[Record<string, unknown>], KeyRow>(sql).all(params);
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      return { items: page.map(toRecord), next: rows.length > query.limit && last ? last.seq : undefined };
    },
    update(record) {
      update.run({ ...record, limits: limitsColumn(record), credits: record.credits === null ? null : JSON.stringify(record.credits) });
    },
    liveKeysOf(ownerId) {
      return liveOf.all(ownerId).map(toRecord);
    },
  };
}
