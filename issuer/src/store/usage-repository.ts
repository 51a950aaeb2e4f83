/**
 * Usage counts in the database: `usage_minutes` and `usage_hours` (one row per key and period, a
 * column per outcome, added to with upserts), and `usage_reports`, the ids of the reports
 * applied, which makes applying a report twice a no-op.
 */
import { USAGE_OUTCOMES, type UsageCounts } from '@akm/common';
import type { UsageBucket, UsageRepository } from '../domain/usage-record.js';
import type { SqlClient, SqlValue } from './sql-client.js';

type CountsRow = Record<(typeof USAGE_OUTCOMES)[number], number>;

const COLUMNS = USAGE_OUTCOMES.join(', ');
const SUMS = USAGE_OUTCOMES.map((o) => `SUM(${o}) AS ${o}`).join(', ');
const PARAMS = USAGE_OUTCOMES.map(() => '?').join(', ');

function countsOf(row: CountsRow): UsageCounts {
  return Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, row[o] ?? 0])) as UsageCounts;
}

/** Creates the usage repository over a database client. */
export function createUsageRepository(db: SqlClient): UsageRepository {
  const upsert = (table: 'usage_minutes' | 'usage_hours', column: 'minute' | 'hour') =>
    `INSERT INTO ${table} (key_id, ${column}, ${COLUMNS}) VALUES (?, ?, ${PARAMS})
     ON CONFLICT (key_id, ${column}) DO UPDATE SET ${USAGE_OUTCOMES.map((o) => `${o} = ${table}.${o} + excluded.${o}`).join(', ')}`;
  const addMinute = upsert('usage_minutes', 'minute');
  const addHour = upsert('usage_hours', 'hour');
  const seriesOf = {
    minute: `SELECT minute AS at, ${COLUMNS} FROM usage_minutes WHERE key_id = ? AND minute >= ? AND minute < ? ORDER BY minute`,
    hour: `SELECT hour AS at, ${COLUMNS} FROM usage_hours WHERE key_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
    day: `SELECT hour - hour % 86400 AS at, ${SUMS} FROM usage_hours WHERE key_id = ? AND hour >= ? AND hour < ?
       GROUP BY hour - hour % 86400 ORDER BY at`,
  };
  // By primary key, which both dialects have (PostgreSQL has no rowid).
  const pruneMinutes = 'DELETE FROM usage_minutes WHERE (key_id, minute) IN (SELECT key_id, minute FROM usage_minutes WHERE minute < ? LIMIT ?)';
  const pruneHours = 'DELETE FROM usage_hours WHERE (key_id, hour) IN (SELECT key_id, hour FROM usage_hours WHERE hour < ? LIMIT ?)';
  const pruneReports = 'DELETE FROM usage_reports WHERE id IN (SELECT id FROM usage_reports WHERE applied_at < ? LIMIT ?)';

  return {
    async markApplied(id, nowMs) {
      return (await db.run('INSERT INTO usage_reports (id, applied_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', [id, nowMs])) === 1;
    },
    async add(keyId, minute, counts) {
      const values = USAGE_OUTCOMES.map((o) => counts[o] ?? 0);
      await db.run(addMinute, [keyId, minute, ...values]);
      await db.run(addHour, [keyId, minute - (minute % 3600), ...values]);
    },
    async series(keyId, granularity, from, to): Promise<UsageBucket[]> {
      const rows = await db.all<CountsRow & { at: number }>(seriesOf[granularity], [keyId, from, to]);
      return rows.map((row) => ({ at: row.at, counts: countsOf(row) }));
    },
    async top(query) {
      const fullFrom = Math.ceil(query.from / 3600) * 3600;
      const fullTo = Math.floor(query.to / 3600) * 3600;
      const params: SqlValue[] = [];
      const parts: string[] = [];
      if (fullFrom < fullTo) {
        parts.push(`SELECT key_id, ${COLUMNS} FROM usage_hours WHERE hour >= ? AND hour < ?`);
        parts.push(
          `SELECT key_id, ${COLUMNS} FROM usage_minutes
           WHERE (minute >= ? AND minute < ?) OR (minute >= ? AND minute < ?)`,
        );
        params.push(fullFrom, fullTo, query.from, fullFrom, fullTo, query.to);
      } else {
        parts.push(`SELECT key_id, ${COLUMNS} FROM usage_minutes WHERE minute >= ? AND minute < ?`);
        params.push(query.from, query.to);
      }
      const owned = query.ownerId === undefined ? '' : 'JOIN keys ON keys.id = u.key_id AND keys.owner_id = ?';
      if (query.ownerId !== undefined) params.push(query.ownerId);
      // `by` is one of USAGE_OUTCOMES (checked by the caller's type and here), so it may name a column.
      if (!USAGE_OUTCOMES.includes(query.by)) throw new TypeError(`not a usage outcome: ${query.by}`);
      const sql = `SELECT u.key_id AS key_id, ${USAGE_OUTCOMES.map((o) => `SUM(u.${o}) AS ${o}`).join(', ')}
        FROM (${parts.join(' UNION ALL ')}) AS u ${owned}
        GROUP BY u.key_id HAVING SUM(u.${query.by}) > 0
        ORDER BY SUM(u.${query.by}) DESC, u.key_id LIMIT ?`;
      const rows = await db.all<CountsRow & { key_id: string }>(sql, [...params, query.limit]);
      return rows.map((row) => ({ keyId: row.key_id, counts: countsOf(row) }));
    },
    async prune(retention, limit) {
      let deleted = await db.run(pruneMinutes, [retention.minutesBefore, limit]);
      deleted += await db.run(pruneHours, [retention.hoursBefore, limit]);
      deleted += await db.run(pruneReports, [retention.reportsBeforeMs, limit]);
      return deleted;
    },
  };
}
