/**
 * Usage counts in SQLite: `usage_minutes` and `usage_hours` (one row per key and period, a
 * column per outcome, added to with upserts), and `usage_reports`, the ids of the reports
 * applied, which makes applying a report twice a no-op.
 */
import { USAGE_OUTCOMES, type UsageCounts } from '@akm/common';
import type { UsageBucket, UsageRepository } from '../domain/usage-record.js';
import type { Db } from './database.js';

type CountsRow = Record<(typeof USAGE_OUTCOMES)[number], number>;

const COLUMNS = USAGE_OUTCOMES.join(', ');
const SUMS = USAGE_OUTCOMES.map((o) => `SUM(${o}) AS ${o}`).join(', ');
const PARAMS = USAGE_OUTCOMES.map((o) => `@${o}`).join(', ');
const ADD = USAGE_OUTCOMES.map((o) => `${o} = ${o} + excluded.${o}`).join(', ');

function countsOf(row: CountsRow): UsageCounts {
  return Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, row[o] ?? 0])) as UsageCounts;
}

/** Creates the usage repository over an open database. */
export function createUsageRepository(db: Db): UsageRepository {
  const markApplied = db.prepare('INSERT INTO usage_reports (id, applied_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
  const addMinute = db.prepare(
    `INSERT INTO usage_minutes (key_id, minute, ${COLUMNS}) VALUES (@keyId, @at, ${PARAMS})
     ON CONFLICT (key_id, minute) DO UPDATE SET ${ADD}`,
  );
  const addHour = db.prepare(
    `INSERT INTO usage_hours (key_id, hour, ${COLUMNS}) VALUES (@keyId, @at, ${PARAMS})
     ON CONFLICT (key_id, hour) DO UPDATE SET ${ADD}`,
  );
  const seriesOf = {
    minute: db.prepare<[string, number, number], CountsRow & { at: number }>(
      `SELECT minute AS at, ${COLUMNS} FROM usage_minutes WHERE key_id = ? AND minute >= ? AND minute < ? ORDER BY minute`,
    ),
    hour: db.prepare<[string, number, number], CountsRow & { at: number }>(
      `SELECT hour AS at, ${COLUMNS} FROM usage_hours WHERE key_id = ? AND hour >= ? AND hour < ? ORDER BY hour`,
    ),
    day: db.prepare<[string, number, number], CountsRow & { at: number }>(
      `SELECT hour - hour % 86400 AS at, ${SUMS} FROM usage_hours WHERE key_id = ? AND hour >= ? AND hour < ?
       GROUP BY at ORDER BY at`,
    ),
  };
  const pruneMinutes = db.prepare('DELETE FROM usage_minutes WHERE rowid IN (SELECT rowid FROM usage_minutes WHERE minute < ? LIMIT ?)');
  const pruneHours = db.prepare('DELETE FROM usage_hours WHERE rowid IN (SELECT rowid FROM usage_hours WHERE hour < ? LIMIT ?)');
  const pruneReports = db.prepare(
    'DELETE FROM usage_reports WHERE rowid IN (SELECT rowid FROM usage_reports WHERE applied_at < ? LIMIT ?)',
  );

  return {
    markApplied(id, nowMs) {
      return markApplied.run(id, nowMs).changes === 1;
    },
    add(keyId, minute, counts) {
      const row = { keyId, ...Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, counts[o] ?? 0])) };
      addMinute.run({ ...row, at: minute });
      addHour.run({ ...row, at: minute - (minute % 3600) });
    },
    series(keyId, granularity, from, to): UsageBucket[] {
      return seriesOf[granularity].all(keyId, from, to).map((row) => ({ at: row.at, counts: countsOf(row) }));
    },
    top(query) {
      const fullFrom = Math.ceil(query.from / 3600) * 3600;
      const fullTo = Math.floor(query.to / 3600) * 3600;
      const params: Record<string, unknown> = { from: query.from, to: query.to, limit: query.limit };
      const parts: string[] = [];
      if (fullFrom < fullTo) {
        Object.assign(params, { fullFrom, fullTo });
        parts.push(`SELECT key_id, ${COLUMNS} FROM usage_hours WHERE hour >= @fullFrom AND hour < @fullTo`);
        parts.push(
          `SELECT key_id, ${COLUMNS} FROM usage_minutes
           WHERE (minute >= @from AND minute < @fullFrom) OR (minute >= @fullTo AND minute < @to)`,
        );
      } else {
        parts.push(`SELECT key_id, ${COLUMNS} FROM usage_minutes WHERE minute >= @from AND minute < @to`);
      }
      const owned = query.ownerId === undefined ? '' : 'JOIN keys ON keys.id = u.key_id AND keys.owner_id = @ownerId';
      if (query.ownerId !== undefined) params.ownerId = query.ownerId;
      // `by` is one of USAGE_OUTCOMES (checked by the caller's type and here), so it may name a column.
      if (!USAGE_OUTCOMES.includes(query.by)) throw new TypeError(`not a usage outcome: ${query.by}`);
      const sql = `SELECT u.key_id AS keyId, ${USAGE_OUTCOMES.map((o) => `SUM(u.${o}) AS ${o}`).join(', ')}
        FROM (${parts.join(' UNION ALL ')}) AS u ${owned}
        GROUP BY u.key_id HAVING SUM(u.${query.by}) > 0
        ORDER BY SUM(u.${query.by}) DESC, u.key_id LIMIT @limit`;
      return db
        .prepare<[Record<string, unknown>], CountsRow & { keyId: string }>(sql)
        .all(params)
        .map((row) => ({ keyId: row.keyId, counts: countsOf(row) }));
    },
    prune(retention, limit) {
      let deleted = pruneMinutes.run(retention.minutesBefore, limit).changes;
      deleted += pruneHours.run(retention.hoursBefore, limit).changes;
      deleted += pruneReports.run(retention.reportsBeforeMs, limit).changes;
      return deleted;
    },
  };
}
