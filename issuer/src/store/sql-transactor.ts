/**
 * The domain's {@link Transactor} over a database client: one transaction, which the statements
 * of the work join (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: one connection of the pool).
 */
import type { Transactor } from '../domain/transactor.js';
import type { SqlClient } from './sql-client.js';

/** Creates the transactor of a database client. */
export function createSqlTransactor(db: SqlClient): Transactor {
  return { run: (work) => db.transaction(work) };
}
