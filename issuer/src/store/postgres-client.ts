/**
 * {@link SqlClient} over a `pg` connection pool. A transaction takes one connection from the pool
 * for its whole length; statements inside it (found by the async call chain) use that connection,
 * others any free one. BIGINT and NUMERIC values (times in ms, counts, sums) come back as numbers:
 * every value the issuer keeps is well below 2^53.
 *
 * A failure of the server or of the connection (refused, reset, shut down, out of connections,
 * a serialization failure or deadlock to retry) is thrown as a {@link StoreUnavailableError}, so
 * that the HTTP layer answers 503 `storage_failed`; errors of a statement itself pass through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { SqlClient, SqlValue } from './sql-client.js';
import { StoreUnavailableError } from './storage-errors.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** SQLSTATE classes that say the database, not the statement, failed. */
const UNAVAILABLE_CLASSES = ['08', '40', '53', '57', '58', 'XX'];

/** The PostgreSQL client, with a way to hold one connection (advisory locks are per session). */
export interface PostgresClient extends SqlClient {
  readonly dialect: 'postgres';
  /** A dedicated connection, outside the pool, for session state such as advisory locks. */
  connectSession(): Promise<pg.Client>;
}

/** Options of {@link createPostgresClient}. */
export interface PostgresClientOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections of the pool (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Called with pool errors of idle connections (a restarted server); they are not a crash. */
  onIdleError?: (err: Error) => void;
}

/** True for errors of the server or connection rather than of a statement. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // Server errors carry a SQLSTATE; connection errors (refused, reset, terminated, timed out) carry none or an errno.
  if (err instanceof pg.DatabaseError) return typeof code === 'string' && UNAVAILABLE_CLASSES.includes(code.slice(0, 2));
  return true;
}

const positional = new Map<string, string>();
/** `?` placeholders as `$1, $2, …` (the repositories' SQL has no `?` anywhere else). */
function toPositional(sql: string): string {
  let converted = positional.get(sql);
  if (converted === undefined) {
    let n = 0;
    converted = sql.replace(/\?/g, () => `$${++n}`);
    positional.set(sql, converted);
  }
  return converted;
}

/** Creates the client; connections are opened on first use. */
export function createPostgresClient(options: PostgresClientOptions): PostgresClient {
  const config = { connectionString: options.url, types, connectionTimeoutMillis: options.connectTimeoutMs ?? 5000 };
  const pool = new pg.Pool({ ...config, max: options.maxConnections ?? 10 });
  pool.on('error', (err) => options.onIdleError?.(err));
  const session = new AsyncLocalStorage<pg.PoolClient>();

  async function query<T>(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    const on = session.getStore() ?? pool;
    try {
      return await on.query<T & pg.QueryResultRow>(toPositional(sql), params as SqlValue[]);
    } catch (err) {
      throw isUnavailable(err) ? new StoreUnavailableError(err as Error) : err;
    }
  }

  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query<T>(sql, params)).rows,
    get: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query<T>(sql, params)).rows[0],
    run: async (sql, params = []) => (await query(sql, params)).rowCount ?? 0,
    async transaction<T>(work: () => Promise<T>): Promise<T> {
      if (session.getStore()) return work();
      let connection: pg.PoolClient;
      try {
        connection = await pool.connect();
      } catch (err) {
        throw new StoreUnavailableError(err as Error);
      }
      let broken: Error | undefined;
      // A connection that drops between two statements of the transaction emits 'error' on the
      // client, which nobody else listens to while it is checked out: unhandled, it would end the
      // process. Remember it instead; the next statement fails, and the connection is discarded.
      const onError = (err: Error) => {
        broken = err;
      };
      connection.on('error', onError);
      try {
        return await session.run(connection, async () => {
          await query('BEGIN', []);
          try {
            const result = await work();
            await query('COMMIT', []);
            return result;
          } catch (err) {
            await query('ROLLBACK', []).catch((rollback: Error) => {
              broken = rollback;
            });
            throw err;
          }
        });
      } finally {
        connection.off('error', onError);
        // A connection that failed (or whose rollback failed) is dropped rather than handed out again.
        connection.release(broken);
      }
    },
    async ping() {
      await query('SELECT 1', []);
    },
    async connectSession() {
      const client = new pg.Client(config);
      client.on('error', (err) => options.onIdleError?.(err));
      try {
        await client.connect();
      } catch (err) {
        throw new StoreUnavailableError(err as Error);
      }
      return client;
    },
    close: () => pool.end(),
  };
}
