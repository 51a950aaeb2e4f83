/**
 * {@link SqlClient} over one better-sqlite3 connection. better-sqlite3 is synchronous, but a
 * transaction of the domain spans awaits (it reads, then writes): while one is open, every other
 * statement on the connection would silently join it. So the connection is taken in turns: a
 * transaction (`BEGIN IMMEDIATE`, the write lock taken at once) holds it until it commits, and
 * any statement made outside it waits for its turn. Statements inside the transaction (found by
 * the async call chain) run at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import type { SqlClient, SqlValue } from './sql-client.js';

/** The SQLite client, with the connection for code that needs it whole (the token pool). */
export interface SqliteClient extends SqlClient {
  readonly dialect: 'sqlite';
  readonly db: Db;
  /** Runs synchronous `work` on the connection in its turn (no transaction of another caller is open). */
  exclusive<T>(work: () => T): Promise<T>;
}

/** Creates the client of an open database; closing it closes the database. */
export function createSqliteClient(db: Db): SqliteClient {
  const inTransaction = new AsyncLocalStorage<true>();
  const statements = new Map<string, Statement<SqlValue[]>>();
  let turn: Promise<unknown> = Promise.resolve();

  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare<SqlValue[]>(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  /** Runs `work` once every earlier caller is done. */
  const inTurn = <T>(work: () => T | Promise<T>): Promise<T> => {
    const result = turn.then(work);
    turn = result.catch(() => undefined);
    return result;
  };
  /** Runs a statement now inside the caller's transaction, else in its turn. */
  const statement = <T>(work: () => T): Promise<T> => (inTransaction.getStore() ? Promise.resolve().then(work) : inTurn(work));

  return {
    dialect: 'sqlite',
    db,
    exclusive: (work) => (inTransaction.getStore() ? Promise.resolve().then(work) : inTurn(work)),
    all: <T>(sql: string, params: readonly SqlValue[] = []) => statement(() => prepare(sql).all(...params) as T[]),
    get: <T>(sql: string, params: readonly SqlValue[] = []) => statement(() => prepare(sql).get(...params) as T | undefined),
    run: (sql, params = []) => statement(() => prepare(sql).run(...params).changes),
    async transaction<T>(work: () => Promise<T>): Promise<T> {
      if (inTransaction.getStore()) return work();
      return inTurn(async () => {
        prepare('BEGIN IMMEDIATE').run();
        try {
          const result = await inTransaction.run(true, work);
          prepare('COMMIT').run();
          return result;
        } catch (err) {
          if (db.inTransaction) prepare('ROLLBACK').run();
          throw err;
        }
      });
    },
    ping: () => statement(() => void prepare('SELECT 1').get()),
    close: () => inTurn(() => void db.close()),
  };
}
