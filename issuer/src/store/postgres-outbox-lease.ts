/**
 * The outbox lease among issuers on one PostgreSQL: a session advisory lock held on a connection
 * of its own. PostgreSQL frees it the moment that connection ends (the issuer stopped, was
 * killed, or lost the server), so another issuer takes it over on its next try (within a second).
 * The same connection LISTENs on `akm_outbox`, which the outbox repository NOTIFYs in every
 * transaction that adds an event (delivered on commit), so the holder publishes a change made
 * through any replica at once instead of at its next poll.
 */
import type pg from 'pg';
import type { OutboxLease } from '../domain/outbox.js';
import type { PostgresClient } from './postgres-client.js';

/** Advisory lock key of the outbox lease. */
const RELAY_LOCK = 0x616b6d03;
/** The channel the outbox repository notifies. */
export const OUTBOX_CHANNEL = 'akm_outbox';

/** Creates the lease over the issuer's PostgreSQL client. */
export function createPostgresOutboxLease(client: PostgresClient): OutboxLease {
  let session: pg.Client | undefined;
  let held = false;
  const listeners: Array<() => void> = [];

  const drop = () => {
    const old = session;
    session = undefined;
    held = false;
    void old?.end().catch(() => undefined);
  };

  async function connect(): Promise<pg.Client> {
    const connection = await client.connectSession();
    connection.on('error', drop);
    connection.on('end', () => {
      if (session === connection) drop();
    });
    connection.on('notification', () => {
      for (const listener of listeners) listener();
    });
    await connection.query(`LISTEN ${OUTBOX_CHANNEL}`);
    return connection;
  }

  return {
    async hold() {
      try {
        session ??= await connect();
        if (held) {
          // Still ours only while the connection that holds it lives.
          await session.query('SELECT 1');
          return true;
        }
        const { rows } = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RELAY_LOCK]);
        held = rows[0]?.ok === true;
        return held;
      } catch {
        drop();
        return false;
      }
    },
    onAdded(listener) {
      listeners.push(listener);
    },
    async release() {
      const old = session;
      session = undefined;
      held = false;
      // Ending the connection frees the lock.
      await old?.end().catch(() => undefined);
    },
  };
}
