/**
 * The domain's {@link Transactor} over SQLite: `BEGIN IMMEDIATE` (the write lock is taken at
 * once, so a transaction never fails half-way on a lock), savepoints when nested.
 */
import type { Transactor } from '../domain/transactor.js';
import type { Db } from './database.js';

/** Creates the transactor of an open database. */
export function createSqliteTransactor(db: Db): Transactor {
  return {
    run: (work) => db.transaction(work).immediate(),
  };
}
