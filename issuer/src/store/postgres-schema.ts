/**
 * The issuer's PostgreSQL schema: versioned migrations kept in code, recorded in
 * `schema_migrations`, applied at start under an advisory lock so that replicas starting together
 * migrate once (the others wait for the lock, then find nothing left to do). Version 1 is the
 * SQLite schema as of its version 8, with BIGINT for times and counts.
 */
import type { PostgresClient } from './postgres-client.js';
import { StoreUnavailableError } from './storage-errors.js';

/** One schema step; applied once, in order, in its own transaction. */
export interface PostgresMigration {
  version: number;
  description: string;
  sql: string;
}

const COUNTS = ['served', 'rate_limited', 'forbidden', 'revoked', 'disabled', 'expired']
  .map((o) => `${o} BIGINT NOT NULL DEFAULT 0`)
  .join(', ');

/** The issuer's migrations. */
export const POSTGRES_MIGRATIONS: PostgresMigration[] = [
  {
    version: 1,
    description: 'keys, outbox, key events, signing keys, users, usage, ended sign-ins',
    sql: `
      CREATE TABLE keys (
        seq        BIGSERIAL PRIMARY KEY,
        id         TEXT    NOT NULL UNIQUE,
        sub        TEXT    NOT NULL,
        owner_id   TEXT,
        role       TEXT    NOT NULL,
        name       TEXT,
        meta       TEXT,
        rate_limit BIGINT  NOT NULL,
        expires_at BIGINT  NOT NULL, -- seconds since epoch
        created_at BIGINT  NOT NULL, -- milliseconds since epoch
        updated_at BIGINT  NOT NULL, -- milliseconds since epoch
        status     TEXT    NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
        version    BIGINT  NOT NULL,
        kid        TEXT    NOT NULL
      );
      CREATE INDEX keys_by_sub ON keys (sub, seq);
      CREATE INDEX keys_by_status ON keys (status, seq);
      CREATE INDEX keys_by_owner ON keys (owner_id, seq) WHERE owner_id IS NOT NULL;
      CREATE TABLE outbox (
        seq        BIGSERIAL PRIMARY KEY,
        event_id   TEXT   NOT NULL UNIQUE,
        key_id     TEXT   NOT NULL,
        payload    TEXT   NOT NULL,
        created_at BIGINT NOT NULL,
        sent_at    BIGINT
      );
      CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
      CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
      CREATE TABLE key_events (
        seq      BIGSERIAL PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        key_id   TEXT NOT NULL,
        payload  TEXT NOT NULL
      );
      CREATE INDEX key_events_by_key ON key_events (key_id, seq);
      CREATE TABLE signing_keys (
        kid          TEXT   PRIMARY KEY,
        public_jwk   TEXT   NOT NULL,
        created_at   BIGINT NOT NULL, -- milliseconds since epoch
        retired_at   BIGINT,          -- milliseconds since epoch; NULL while current or next
        max_exp      BIGINT NOT NULL DEFAULT 0, -- latest exp (seconds) of a token it signed
        activated_at BIGINT           -- milliseconds since epoch; NULL while pre-published
      );
      CREATE TABLE users (
        id            TEXT   NOT NULL UNIQUE,
        username      TEXT   PRIMARY KEY,
        password_hash TEXT   NOT NULL, -- scrypt with a per-user salt, never the password
        role          TEXT   NOT NULL CHECK (role IN ('admin', 'user')),
        status        TEXT   NOT NULL CHECK (status IN ('active', 'disabled')),
        created_at    BIGINT NOT NULL,
        updated_at    BIGINT NOT NULL,
        session_epoch TEXT   NOT NULL DEFAULT ''
      );
      CREATE TABLE usage_minutes (key_id TEXT NOT NULL, minute BIGINT NOT NULL, ${COUNTS}, PRIMARY KEY (key_id, minute));
      CREATE INDEX usage_minutes_by_time ON usage_minutes (minute);
      CREATE TABLE usage_hours (key_id TEXT NOT NULL, hour BIGINT NOT NULL, ${COUNTS}, PRIMARY KEY (key_id, hour));
      CREATE INDEX usage_hours_by_time ON usage_hours (hour);
      CREATE TABLE usage_reports (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL);
      CREATE INDEX usage_reports_by_time ON usage_reports (applied_at);
      CREATE TABLE ended_sessions (jti TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
      CREATE INDEX ended_sessions_by_expiry ON ended_sessions (expires_at);
    `,
  },
  {
    version: 2,
    description: 'the token pool (when there is no Redis): tokens, and their counts kept by a trigger',
    sql: `
      CREATE TABLE pool_tokens (
        id             BIGSERIAL PRIMARY KEY, -- probed at random to pick a token
        token          TEXT   NOT NULL UNIQUE,
        holder         TEXT,                  -- sub of the holder; NULL while available
        assigned_until BIGINT,                -- milliseconds since epoch; NULL while available
        alive_until    BIGINT NOT NULL,       -- milliseconds since epoch
        CHECK ((holder IS NULL) = (assigned_until IS NULL))
      );
      CREATE INDEX pool_tokens_alive ON pool_tokens (alive_until);
      CREATE INDEX pool_tokens_lease ON pool_tokens (assigned_until) WHERE assigned_until IS NOT NULL;
      CREATE INDEX pool_tokens_free ON pool_tokens (id) WHERE holder IS NULL;
      CREATE INDEX pool_tokens_holder ON pool_tokens (holder, assigned_until) WHERE holder IS NOT NULL;
      CREATE TABLE pool_counts (id INTEGER PRIMARY KEY CHECK (id = 1), total BIGINT NOT NULL, assigned BIGINT NOT NULL);
      INSERT INTO pool_counts (id, total, assigned) VALUES (1, 0, 0);
      CREATE FUNCTION pool_tokens_count() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE pool_counts SET total = total + 1, assigned = assigned + (NEW.holder IS NOT NULL)::int WHERE id = 1;
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE pool_counts SET total = total - 1, assigned = assigned - (OLD.holder IS NOT NULL)::int WHERE id = 1;
        ELSE
          UPDATE pool_counts SET assigned = assigned + (NEW.holder IS NOT NULL)::int - (OLD.holder IS NOT NULL)::int WHERE id = 1;
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER pool_tokens_counted AFTER INSERT OR DELETE OR UPDATE OF holder ON pool_tokens
        FOR EACH ROW EXECUTE FUNCTION pool_tokens_count();
    `,
  },
  {
    version: 3,
    description: 'private signing keys, sealed under AKM_MASTER_KEY, so that every replica signs with the current one',
    sql: 'ALTER TABLE signing_keys ADD COLUMN private_key TEXT; -- AES-256-GCM sealed JWK, never in clear',
  },
  {
    version: 4,
    description: 'sign-in limits shared by the replicas: attempt windows and the addresses users signed in from',
    sql: `
      CREATE TABLE login_windows (
        kind    TEXT   NOT NULL, -- pair (user and address), user, address
        key     TEXT   NOT NULL,
        used    BIGINT NOT NULL,
        ends_at BIGINT NOT NULL, -- milliseconds since epoch
        PRIMARY KEY (kind, key)
      );
      CREATE INDEX login_windows_by_end ON login_windows (ends_at);
      CREATE TABLE login_known (
        username TEXT   NOT NULL,
        address  TEXT   NOT NULL,
        until    BIGINT NOT NULL, -- milliseconds since epoch
        PRIMARY KEY (username, address)
      );
      CREATE INDEX login_known_by_until ON login_known (until);
    `,
  },
  {
    version: 5,
    description: "keys' scopes, several limits, rolls and credits, and users' key policies (SQLite versions 9 to 13)",
    sql: `
      ALTER TABLE keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'prices:read'; -- space-delimited, as the signed scope claim
      ALTER TABLE keys ADD COLUMN limits TEXT;      -- JSON; NULL for the one per-minute limit of rate_limit
      ALTER TABLE keys ADD COLUMN revoke_at BIGINT; -- seconds since epoch; NULL for a key never rolled
      ALTER TABLE keys ADD COLUMN rolled_to TEXT;
      ALTER TABLE keys ADD COLUMN rolled_from TEXT;
      ALTER TABLE keys ADD COLUMN credits TEXT;     -- JSON grant; NULL for a key without credits
      ALTER TABLE users ADD COLUMN key_policy TEXT; -- JSON; NULL for none
    `,
  },
  {
    version: 6,
    description: 'usage per key: requests refused with no credits left (credits_exhausted; SQLite version 14)',
    sql: `
      ALTER TABLE usage_minutes ADD COLUMN credits_exhausted BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE usage_hours ADD COLUMN credits_exhausted BIGINT NOT NULL DEFAULT 0;
    `,
  },
];

/** Advisory lock key of the migrations (any constant the issuer uses for nothing else). */
const MIGRATION_LOCK = 0x616b6d01;

/**
 * Applies every migration the database has not seen, each in its own transaction, holding the
 * migration advisory lock on a dedicated connection for the whole run.
 */
export async function migratePostgres(client: PostgresClient, migrations: PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<void> {
  const session = await client.connectSession();
  try {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await session.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const done = new Set((await session.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await session.query('BEGIN');
      try {
        await session.query(migration.sql);
        await session.query('INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.description,
          Date.now(),
        ]);
        await session.query('COMMIT');
      } catch (err) {
        await session.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
  } catch (err) {
    throw err instanceof StoreUnavailableError || (err as { severity?: string }).severity ? err : new StoreUnavailableError(err as Error);
  } finally {
    await session.end().catch(() => undefined);
  }
}
