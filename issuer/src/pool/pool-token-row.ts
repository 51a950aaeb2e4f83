/**
 * A row of the SQL pool stores' `pool_tokens` table (SQLite and PostgreSQL alike), and the
 * {@link PoolToken} it stands for. Times are milliseconds since epoch.
 */
import type { PoolToken } from './pool-store.js';

/** A `pool_tokens` row. */
export interface PoolTokenRow {
  id: number;
  token: string;
  holder: string | null;
  assigned_until: number | null;
  alive_until: number;
}

/** The columns of a {@link PoolTokenRow}, for SELECT lists. */
export const POOL_TOKEN_COLUMNS = 'id, token, holder, assigned_until, alive_until';

/** The token a row holds. */
export const toPoolToken = (row: PoolTokenRow): PoolToken => ({
  token: row.token,
  state: row.holder === null ? 'available' : 'assigned',
  holder: row.holder,
  assignedUntil: row.assigned_until,
  aliveUntil: row.alive_until,
});
