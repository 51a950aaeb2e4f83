/**
 * The one way the issuer's repositories talk to a database, whichever it is: SQL with `?`
 * placeholders, rows as plain objects, and transactions that statements inside join on their own
 * (the transaction follows the async call chain). `sqlite-client.ts` and `postgres-client.ts`
 * implement it; the few statements the two dialects spell differently are chosen by `dialect`.
 */

/** Which database a client talks to. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A value a statement may bind. */
export type SqlValue = string | number | null;

/** A database connection (or pool) the repositories share. */
export interface SqlClient {
  readonly dialect: SqlDialect;
  /** Every row of a query. Integers (counts, BIGINT columns) come back as numbers. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, if any. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; answers the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs `work` in one write transaction; every statement `work` makes (however deep) joins it.
   * Called inside another transaction, it joins that one. A throw rolls it back.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** Throws when the database cannot be reached or used. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
