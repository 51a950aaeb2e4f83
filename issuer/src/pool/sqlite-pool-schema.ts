/**
 * Tables of the SQLite pool store. Every query of the store is an index seek: deadlines have
 * their own indexes, available tokens a partial index for the random pick, assigned tokens one
 * by holder (the per-holder cap), and the counts are kept by triggers because `count(*)` would
 * read the whole table.
 */
import type Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pool_tokens (
  id             INTEGER PRIMARY KEY,   -- rowid, probed at random to pick a token
  token          TEXT    NOT NULL UNIQUE,
  holder         TEXT,                  -- sub of the holder; NULL while available
  assigned_until INTEGER,               -- milliseconds since epoch; NULL while available
  alive_until    INTEGER NOT NULL,      -- milliseconds since epoch
  CHECK ((holder IS NULL) = (assigned_until IS NULL))
);
CREATE INDEX IF NOT EXISTS pool_tokens_alive ON pool_tokens (alive_until);
CREATE INDEX IF NOT EXISTS pool_tokens_lease ON pool_tokens (assigned_until) WHERE assigned_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS pool_tokens_free ON pool_tokens (id) WHERE holder IS NULL;
-- A holder's tokens, for the per-holder cap: a seek to the few rows of one holder.
CREATE INDEX IF NOT EXISTS pool_tokens_holder ON pool_tokens (holder, assigned_until) WHERE holder IS NOT NULL;

CREATE TABLE IF NOT EXISTS pool_counts (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  total    INTEGER NOT NULL,
  assigned INTEGER NOT NULL
);
-- Created together with pool_tokens, so zero is right: no count(*) scan on start.
INSERT OR IGNORE INTO pool_counts (id, total, assigned) VALUES (1, 0, 0);

CREATE TRIGGER IF NOT EXISTS pool_tokens_counted_insert AFTER INSERT ON pool_tokens BEGIN
  UPDATE pool_counts SET total = total + 1, assigned = assigned + (NEW.holder IS NOT NULL) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS pool_tokens_counted_delete AFTER DELETE ON pool_tokens BEGIN
  UPDATE pool_counts SET total = total - 1, assigned = assigned - (OLD.holder IS NOT NULL) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS pool_tokens_counted_update AFTER UPDATE OF holder ON pool_tokens BEGIN
  UPDATE pool_counts
     SET assigned = assigned + (NEW.holder IS NOT NULL) - (OLD.holder IS NOT NULL) WHERE id = 1;
END;
`;

/**
 * Creates the pool's tables, indexes and triggers if they are missing (`pool_tokens`,
 * `pool_counts`). Idempotent: safe on every start, and usable as the body of a migration.
 */
export function migratePool(db: Database.Database): void {
  db.transaction(() => db.exec(SCHEMA)).immediate();
}
