import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { migrate, openDatabase } from '../../src/store/database.js';
import { startTestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);

/**
 * The issuer's migrations so far: 1 keys, outbox and signing keys; 2 users; 3 users' session_epoch;
 * 4 usage counts; 5 key events kept for reading back; 6 signing keys' activated_at (pre-publication);
 * 7 users' ids and keys' owner ids; 8 ended sign-ins; 9 keys' scopes; 10 keys' several limits; 11 key rolls; 12 keys' credits; 13 users' key policies; 14 usage of credits_exhausted. Bump with each new one.
 */
const ISSUER_SCHEMA_VERSION = 14;

/**
 * What version 1 of the issuer wrote, frozen: migration 1 as it shipped. Editing a shipped
 * migration in place (instead of adding one) breaks databases already at version 1; this
 * fixture does not follow such an edit, so the test below catches it.
 */
const VERSION_1_SCHEMA = `
  CREATE TABLE keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, sub TEXT NOT NULL, role TEXT NOT NULL,
    name TEXT, meta TEXT, rate_limit INTEGER NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'revoked')),
    version INTEGER NOT NULL, kid TEXT NOT NULL
  );
  CREATE INDEX keys_by_sub ON keys (sub, seq);
  CREATE INDEX keys_by_status ON keys (status, seq);
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, key_id TEXT NOT NULL,
    payload TEXT NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER
  );
  CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
  CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, public_jwk TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER,
    max_exp INTEGER NOT NULL DEFAULT 0
  );
  PRAGMA user_version = 1;
`;

/** Migrations 2 and 3 as they shipped, on top of {@link VERSION_1_SCHEMA}. */
const VERSION_3_SCHEMA = `${VERSION_1_SCHEMA}
  CREATE TABLE users (
    username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled')), created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
  );
  ALTER TABLE users ADD COLUMN session_epoch TEXT NOT NULL DEFAULT '';
  PRAGMA user_version = 3;
`;

describe('issuer: SQLite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A second connection to the file, as another process would see it. */
  const inspect = <T>(read: (db: Database.Database) => T): T => {
    const db = new Database(join(dir, 'akm.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };

  it('opens a new database in WAL mode at the version of the last migration', () => {
    const db = openDatabase({ dataDir: dir });
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    db.close();
    expect(inspect((d) => d.pragma('journal_mode', { simple: true })), 'WAL is recorded in the file').to.equal('wal');
    expect(inspect((d) => d.pragma('user_version', { simple: true }))).to.equal(ISSUER_SCHEMA_VERSION);
    const tables = inspect((d) => d.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all());
    expect(tables.map((t) => t.name)).to.have.members(['keys', 'outbox', 'signing_keys', 'users', 'usage_minutes', 'usage_hours', 'usage_reports', 'key_events', 'ended_sessions']);
  });

  const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

  it('keeps the database readable by its owner only: directory 0700, database, WAL and shared-memory files 0600, whatever the umask', async () => {
    const dataDir = join(dir, 'data');
    const umask = process.umask(0o022);
    try {
      const issuer = await startTestIssuer({ dataDir });
      try {
        // A write, so that the WAL and shared-memory files certainly exist.
        const created = await request(issuer.url).post('/admin/keys').set('Authorization', `Bearer ${issuer.admin}`).send({ sub: 'x' });
        expect(created.status, show(created)).to.equal(201);
        const file = join(dataDir, 'akm.sqlite');
        expect(modeOf(dataDir)).to.equal('700');
        expect([file, `${file}-wal`, `${file}-shm`].map(modeOf)).to.deep.equal(['600', '600', '600']);
      } finally {
        await issuer.stop();
      }
    } finally {
      process.umask(umask);
    }
  });

  it('tightens the files and directory an older version left readable by others', () => {
    const dataDir = join(dir, 'old');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const file = join(dataDir, 'akm.sqlite');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    old.close();
    writeFileSync(`${file}-wal`, '');
    for (const path of [file, `${file}-wal`]) chmodSync(path, 0o644);

    openDatabase({ dataDir }).close();

    expect(modeOf(dataDir)).to.equal('700');
    expect(modeOf(file)).to.equal('600');
  });

  it('a running issuer keeps its database in WAL mode at the current version', async () => {
    const issuer = await startTestIssuer({ dataDir: dir });
    try {
      expect(await issuer.db.get('PRAGMA journal_mode')).to.deep.equal({ journal_mode: 'wal' });
      expect(await issuer.db.get('PRAGMA user_version')).to.deep.equal({ user_version: ISSUER_SCHEMA_VERSION });
    } finally {
      await issuer.stop();
    }
  });

  it('brings a version-1 database forward without losing its keys, outbox or signing keys, and the issuer serves them', async () => {
    const old = new Database(join(dir, 'akm.sqlite'));
    old.exec(VERSION_1_SCHEMA);
    const nowMs = Date.now();
    const expiresAt = Math.floor(nowMs / 1000) + 3600;
    old.prepare(
      `INSERT INTO keys (id, sub, role, name, meta, rate_limit, expires_at, created_at, updated_at, status, version, kid)
       VALUES ('k-old', 'olga', 'user', 'legacy', '{"team":"a"}', 42, ?, ?, ?, 'disabled', 3, 'kid-old')`,
    ).run(expiresAt, nowMs, nowMs);
    old.prepare("INSERT INTO outbox (event_id, key_id, payload, created_at, sent_at) VALUES ('e-1', 'k-old', '{}', ?, ?)").run(nowMs, nowMs);
    old.prepare("INSERT INTO signing_keys (kid, public_jwk, created_at, retired_at, max_exp) VALUES ('kid-old', '{}', ?, ?, ?)").run(nowMs, nowMs, expiresAt);
    old.close();

    openDatabase({ dataDir: dir }).close();
    expect(inspect((d) => d.pragma('user_version', { simple: true }))).to.equal(ISSUER_SCHEMA_VERSION);
    expect(inspect((d) => d.prepare('SELECT count(*) AS n FROM users').get())).to.deep.equal({ n: 0 });
    expect(inspect((d) => d.prepare('SELECT rate_limit, status, version, meta FROM keys WHERE id = ?').get('k-old'))).to.deep.equal({
      rate_limit: 42,
      status: 'disabled',
      version: 3,
      meta: '{"team":"a"}',
    });
    expect(inspect((d) => d.prepare('SELECT count(*) AS n FROM outbox').get())).to.deep.equal({ n: 1 });
    expect(
      inspect((d) => d.prepare('SELECT event_id, key_id FROM key_events').all()),
      "the outbox's events start the keys' history",
    ).to.deep.equal([{ event_id: 'e-1', key_id: 'k-old' }]);
    expect(inspect((d) => d.prepare('SELECT max_exp FROM signing_keys WHERE kid = ?').get('kid-old'))).to.deep.equal({ max_exp: expiresAt });

    const issuer = await startTestIssuer({ dataDir: dir });
    try {
      const res = await request(issuer.url).get('/admin/keys/k-old').set('Authorization', `Bearer ${issuer.admin}`);
      expect(res.status, show(res)).to.equal(200);
      expect(res.body).to.include({ id: 'k-old', sub: 'olga', name: 'legacy', rateLimit: 42, status: 'disabled' });
      expect(res.body.scopes, 'a key from before scopes has what verifiers read it as').to.deep.equal(['prices:read']);
      expect(res.body).to.include({ revokeAt: null, rolledTo: null, rolledFrom: null });
      expect(res.body.limits, 'a key from before several limits has its one per-minute limit').to.deep.equal([
        { name: 'default', limit: 42, windowSeconds: 60 },
      ]);
    } finally {
      await issuer.stop();
    }
  });

  it('brings a version-3 database forward: each user gets an id, and a key belongs to the user of its sub only if that user existed when it was issued', () => {
    const old = new Database(join(dir, 'akm.sqlite'));
    old.exec(VERSION_3_SCHEMA);
    const key = old.prepare(
      `INSERT INTO keys (id, sub, role, rate_limit, expires_at, created_at, updated_at, status, version, kid)
       VALUES (?, ?, 'user', 60, 9999999999, ?, ?, 'active', 1, 'kid')`,
    );
    const user = old.prepare(
      `INSERT INTO users (username, password_hash, role, status, created_at, updated_at) VALUES (?, 'x', 'user', 'active', ?, ?)`,
    );
    user.run('nora', 1000, 1000);
    key.run('k-nora', 'nora', 2000, 2000);
    key.run('k-before-otto', 'otto', 500, 500);
    user.run('otto', 1000, 1000);
    key.run('k-service', 'billing', 2000, 2000);
    old.close();

    openDatabase({ dataDir: dir }).close();
    const users = inspect((d) => d.prepare<[], { username: string; id: string }>('SELECT username, id FROM users ORDER BY username').all());
    expect(users.map((u) => u.username)).to.deep.equal(['nora', 'otto']);
    for (const u of users) expect(u.id, u.username).to.match(/^[0-9a-f-]{36}$/);
    expect(users[0]!.id).to.not.equal(users[1]!.id);
    const owners = Object.fromEntries(
      inspect((d) => d.prepare<[], { id: string; owner_id: string | null }>('SELECT id, owner_id FROM keys').all()).map((k) => [k.id, k.owner_id]),
    );
    expect(owners).to.deep.equal({ 'k-nora': users[0]!.id, 'k-before-otto': null, 'k-service': null });
  });

  it('applies each migration once, in order, and a failing one leaves the file at the version before it', () => {
    const db = openDatabase({ dataDir: dir });
    try {
      const applied: number[] = [];
      const step = (version: number) => ({ version, description: `v${version}`, up: () => void applied.push(version) });
      migrate(db, [step(ISSUER_SCHEMA_VERSION + 2), step(ISSUER_SCHEMA_VERSION + 1), step(1)]);
      expect(applied).to.deep.equal([ISSUER_SCHEMA_VERSION + 1, ISSUER_SCHEMA_VERSION + 2]);
      migrate(db, [step(ISSUER_SCHEMA_VERSION + 2)]);
      expect(applied, 'nothing runs twice').to.have.length(2);

      const broken = {
        version: ISSUER_SCHEMA_VERSION + 3,
        description: 'breaks half-way',
        up: (d: Database.Database) => {
          d.exec('CREATE TABLE half (x)');
          throw new Error('boom');
        },
      };
      expect(() => migrate(db, [broken])).to.throw('boom');
      expect(db.pragma('user_version', { simple: true })).to.equal(ISSUER_SCHEMA_VERSION + 2);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), 'its changes are rolled back').to.equal(undefined);
    } finally {
      db.close();
    }
  });
});
