/**
 * The issuer's SQLite database: opened in WAL mode, schema brought up to date by versioned
 * migrations kept in code (`PRAGMA user_version` records how far a file has come).
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DataDirError, isStorageFailure } from './storage-errors.js';

export type Db = Database.Database;

/** One schema step; applied once, in order, inside a transaction. */
export interface Migration {
  version: number;
  description: string;
  up: (db: Db) => void;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'keys, outbox and signing keys',
    up: (db) =>
      db.exec(`
        CREATE TABLE keys (
          seq        INTEGER PRIMARY KEY AUTOINCREMENT,
          id         TEXT    NOT NULL UNIQUE,
          sub        TEXT    NOT NULL,
          role       TEXT    NOT NULL,
          name       TEXT,
          meta       TEXT,
          rate_limit INTEGER NOT NULL,
          expires_at INTEGER NOT NULL, -- seconds since epoch
          created_at INTEGER NOT NULL, -- milliseconds since epoch
          updated_at INTEGER NOT NULL, -- milliseconds since epoch
          status     TEXT    NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
          version    INTEGER NOT NULL,
          kid        TEXT    NOT NULL
        );
        CREATE INDEX keys_by_sub ON keys (sub, seq);
        CREATE INDEX keys_by_status ON keys (status, seq);
        CREATE TABLE outbox (
          seq        INTEGER PRIMARY KEY AUTOINCREMENT,
          event_id   TEXT    NOT NULL UNIQUE,
          key_id     TEXT    NOT NULL,
          payload    TEXT    NOT NULL,
          created_at INTEGER NOT NULL,
          sent_at    INTEGER
        );
        CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
        CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
        CREATE TABLE signing_keys (
          kid          TEXT    PRIMARY KEY,
          public_jwk   TEXT    NOT NULL,
          created_at   INTEGER NOT NULL, -- milliseconds since epoch
          retired_at   INTEGER,          -- milliseconds since epoch; NULL while current
          max_exp      INTEGER NOT NULL DEFAULT 0 -- latest exp (seconds) of a token it signed
        );
      `),
  },
  {
    version: 2,
    description: 'users',
    up: (db) =>
      db.exec(`
        CREATE TABLE users (
          username      TEXT    PRIMARY KEY,
          password_hash TEXT    NOT NULL, -- scrypt with a per-user salt, never the password
          role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
          status        TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
          created_at    INTEGER NOT NULL, -- milliseconds since epoch
          updated_at    INTEGER NOT NULL
        );
      `),
  },
  {
    version: 3,
    description: "users' session epoch: sign-ins made before a password, role or status change are refused",
    // '' is the epoch of sign-ins made before this version (they carry none): they hold until
    // the user's next change, as they did before.
    up: (db) => db.exec(`ALTER TABLE users ADD COLUMN session_epoch TEXT NOT NULL DEFAULT ''`),
  },
  {
    version: 4,
    description: 'usage per key: per-minute and per-hour counts by outcome, and the usage reports applied',
    up: (db) => {
      // Written out, not derived from USAGE_OUTCOMES: a migration must stay what it was.
      const counts = ['served', 'rate_limited', 'forbidden', 'revoked', 'disabled', 'expired']
        .map((o) => `${o} INTEGER NOT NULL DEFAULT 0`)
        .join(', ');
      db.exec(`
        CREATE TABLE usage_minutes (
          key_id TEXT    NOT NULL,
          minute INTEGER NOT NULL, -- start of the minute, seconds since epoch
          ${counts},
          PRIMARY KEY (key_id, minute)
        );
        CREATE INDEX usage_minutes_by_time ON usage_minutes (minute);
        CREATE TABLE usage_hours (
          key_id TEXT    NOT NULL,
          hour   INTEGER NOT NULL, -- start of the hour, seconds since epoch
          ${counts},
          PRIMARY KEY (key_id, hour)
        );
        CREATE INDEX usage_hours_by_time ON usage_hours (hour);
        CREATE TABLE usage_reports (
          id         TEXT    PRIMARY KEY, -- the report id (its Nats-Msg-Id): a report is applied once
          applied_at INTEGER NOT NULL     -- milliseconds since epoch
        );
        CREATE INDEX usage_reports_by_time ON usage_reports (applied_at);
      `);
    },
  },
  {
    version: 5,
    description: "every key's events, kept as long as the key (the outbox keeps sent events a week)",
    up: (db) =>
      db.exec(`
        CREATE TABLE key_events (
          seq      INTEGER PRIMARY KEY AUTOINCREMENT,
          event_id TEXT    NOT NULL UNIQUE,
          key_id   TEXT    NOT NULL,
          payload  TEXT    NOT NULL
        );
        CREATE INDEX key_events_by_key ON key_events (key_id, seq);
        INSERT INTO key_events (event_id, key_id, payload) SELECT event_id, key_id, payload FROM outbox ORDER BY seq;
      `),
  },
  {
    version: 6,
    description: 'signing keys published before they sign: activated_at is NULL while a key is the next one',
    up: (db) =>
      db.exec(`
        ALTER TABLE signing_keys ADD COLUMN activated_at INTEGER; -- milliseconds since epoch; NULL while pre-published
        UPDATE signing_keys SET activated_at = created_at;
      `),
  },
  {
    version: 7,
    description: "users' ids, and the user id each key belongs to: a user created under a deleted user's name owns none of its keys",
    up: (db) => {
      db.exec(`ALTER TABLE users ADD COLUMN id TEXT NOT NULL DEFAULT ''`);
      const setId = db.prepare('UPDATE users SET id = ? WHERE username = ?');
      for (const { username } of db.prepare<[], { username: string }>('SELECT username FROM users').all()) {
        setId.run(randomUUID(), username);
      }
      // A key belongs to the user its sub named when it was issued. Before this version that was
      // not recorded: a key issued before the user of that name was created belonged to someone
      // else (a deleted namesake) or to no user, so it is given to nobody.
      db.exec(`
        CREATE UNIQUE INDEX users_by_id ON users (id);
        ALTER TABLE keys ADD COLUMN owner_id TEXT;
        UPDATE keys SET owner_id = (SELECT u.id FROM users u WHERE u.username = keys.sub AND u.created_at <= keys.created_at);
        CREATE INDEX keys_by_owner ON keys (owner_id, seq) WHERE owner_id IS NOT NULL;
      `);
    },
  },
  {
    version: 8,
    description: 'sign-in tokens ended by signing out, kept until they expire',
    up: (db) =>
      db.exec(`
        CREATE TABLE ended_sessions (
          jti        TEXT    PRIMARY KEY,
          expires_at INTEGER NOT NULL -- seconds since epoch: the token's exp; the row goes after it
        );
        CREATE INDEX ended_sessions_by_expiry ON ended_sessions (expires_at);
      `),
  },
  {
    version: 9,
    description: "keys' scopes: keys issued before have prices:read, as verifiers read a key without a scope claim",
    // Space-delimited, as the signed `scope` claim.
    up: (db) => db.exec(`ALTER TABLE keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'prices:read'`),
  },
  {
    version: 10,
    description: "keys' several rate limits: JSON, NULL for the one per-minute limit of rate_limit every key had before",
    up: (db) => db.exec(`ALTER TABLE keys ADD COLUMN limits TEXT`),
  },
  {
    version: 11,
    description: 'key rolls: when a rolled key stops working, and the keys before and after it',
    up: (db) =>
      db.exec(`
        ALTER TABLE keys ADD COLUMN revoke_at INTEGER; -- seconds since epoch; NULL for a key never rolled
        ALTER TABLE keys ADD COLUMN rolled_to TEXT;
        ALTER TABLE keys ADD COLUMN rolled_from TEXT;
      `),
  },
  {
    version: 12,
    description: "keys' credits: a grant (JSON) verifiers count down; NULL for a key without credits",
    up: (db) => db.exec(`ALTER TABLE keys ADD COLUMN credits TEXT`),
  },
  {
    version: 13,
    description: "users' key policies (JSON): within what bounds a user creates keys of their own; NULL for none",
    up: (db) => db.exec(`ALTER TABLE users ADD COLUMN key_policy TEXT`),
  },
  {
    version: 14,
    description: 'usage per key: requests refused with no credits left (credits_exhausted)',
    up: (db) =>
      db.exec(`
        ALTER TABLE usage_minutes ADD COLUMN credits_exhausted INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage_hours ADD COLUMN credits_exhausted INTEGER NOT NULL DEFAULT 0;
      `),
  },
];

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** The data directory; the database file is `akm.sqlite` inside it. */
  dataDir: string;
  /** Extra migrations of other components (the token pool, users), applied after the issuer's. */
  migrations?: Migration[];
  readonly?: boolean;
}

/**
 * Keeps the database (password hashes, key metadata) readable by its owner only: the directory
 * 0700, the file and its WAL and shared-memory files 0600. The file is created 0600 before
 * SQLite opens it, and SQLite gives the `-wal` and `-shm` files it creates the database file's
 * mode; files left by an older version are tightened. A directory owned by someone else (a
 * volume's root) keeps its mode: the files' modes still hold.
 */
function restrictToOwner(dataDir: string, file: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
}

/**
 * Opens (creating if needed) the issuer database and migrates it, readable by its owner only
 * (see {@link restrictToOwner}). A directory that cannot hold it (read-only, full, not writable)
 * throws a {@link DataDirError} that names the directory.
 */
export function openDatabase(options: OpenDatabaseOptions): Db {
  let db: Db | undefined;
  const file = join(options.dataDir, 'akm.sqlite');
  try {
    if (!options.readonly) restrictToOwner(options.dataDir, file);
    db = new Database(file, {
      readonly: options.readonly ?? false,
      fileMustExist: options.readonly ?? false,
    });
    db.pragma('busy_timeout = 5000');
    if (options.readonly) return db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, [...MIGRATIONS, ...(options.migrations ?? [])]);
    return db;
  } catch (err) {
    db?.close();
    const errno = (err as NodeJS.ErrnoException).code;
    if (isStorageFailure(err)) throw new DataDirError(options.dataDir, err);
    if (errno === 'EROFS' || errno === 'EACCES' || errno === 'EPERM' || errno === 'ENOSPC') {
      throw new DataDirError(options.dataDir, err as Error & { code: string });
    }
    throw err;
  }
}

/** Applies every migration newer than the file's `user_version`, each in its own transaction. */
export function migrate(db: Db, migrations: Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (const migration of sorted) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
