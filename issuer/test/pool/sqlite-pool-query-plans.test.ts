/**
 * The SQLite pool store's cost must not grow with the pool: every statement it prepares, and
 * every statement its triggers run, is an index seek. The plans are SQLite's own
 * (`EXPLAIN QUERY PLAN`), read on the store's real database file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { expect } from 'chai';
import { createSqlitePoolStore, type TokenPoolStore } from '../../src/pool/index.js';
import { createTestClock, openTestDb, type TestClock } from './pool-test-support.js';

const TIMINGS = { keepAliveMs: 300_000, assignTtlMs: 60_000 };

interface PlanStep {
  detail: string;
}

/** The plan of `sql`, with every parameter bound to 0 (the plan does not depend on the values). */
function planOf(db: Database.Database, sql: string): PlanStep[] {
  const params = (sql.match(/\?/g) ?? []).map(() => 0);
  return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as PlanStep[];
}

/** Steps that read a whole table or index, or sort every matching row. */
function fullReads(plan: PlanStep[]): string[] {
  return plan.map((s) => s.detail).filter((d) => !d.startsWith('SEARCH ') || /TEMP B-TREE/.test(d));
}

/** The statements of the pool's triggers, with NEW/OLD columns as literals so they can be planned alone. */
function triggerStatements(db: Database.Database): string[] {
  const triggers = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'pool_tokens'").all() as {
    sql: string;
  }[];
  return triggers.flatMap(({ sql }) =>
    (/\bBEGIN\b([\s\S]*)\bEND\s*$/.exec(sql)?.[1] ?? '')
      .split(';')
      .map((s) => s.trim().replace(/\b(NEW|OLD)\.\w+/g, 'NULL'))
      .filter(Boolean),
  );
}

describe('SQLite pool store: every statement is an index seek', () => {
  let dir: string;
  let db: Database.Database;
  let clock: TestClock;
  let store: TokenPoolStore;
  let prepared: Set<string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-pool-plans-'));
    db = openTestDb(join(dir, 'pool.sqlite'));
    // Record the SQL of every statement the store prepares, now or later (the database is real).
    prepared = new Set();
    const prepare = db.prepare.bind(db);
    db.prepare = ((source: string) => {
      prepared.add(source);
      return prepare(source);
    }) as typeof db.prepare;
    clock = createTestClock();
    store = createSqlitePoolStore({ db, now: clock.now });

    // Every operation once, on a pool of 5,000 tokens with some assigned, some due.
    for (let batch = 0; batch < 5; batch++) {
      const tokens = Array.from({ length: 1000 }, (_, i) => `tok-${batch}-${i}`);
      expect(await store.addTokens(tokens, { maxTokens: 10_000, keepAliveMs: TIMINGS.keepAliveMs })).to.deep.include({ ok: true });
    }
    const held: string[] = [];
    for (let i = 0; i < 50; i++) {
      const assigned = await store.assign(`user-${i}`, TIMINGS, { maxPerHolder: 10 });
      if (assigned.ok) held.push(assigned.value.token);
    }
    expect(held).to.have.length(50);
    await store.keepAlive(held[0]!, { sub: 'user-0', admin: false }, TIMINGS);
    await store.unblock(held[1]!, { sub: 'user-1', admin: false });
    await store.remove(held[2]!);
    await store.getToken(held[3]!);
    clock.advance(TIMINGS.assignTtlMs + 1);
    await store.sweep(10);
    await store.counts();
  });
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const poolStatements = () => [...prepared].filter((sql) => /\bpool_(tokens|counts)\b/.test(sql));

  it('when planned by SQLite, no statement the store prepares scans pool_tokens or sorts in a temp B-tree', () => {
    const statements = poolStatements();
    // The store's reads and writes (token, due deadlines, free pick, counts, insert/update/delete).
    expect(statements.length, statements.join('\n')).to.be.at.least(10);

    for (const sql of statements) {
      const plan = planOf(db, sql);
      expect(fullReads(plan), `${sql}\n→ ${JSON.stringify(plan.map((s) => s.detail))}`).to.deep.equal([]);
    }
  });

  it('when the statistics of a 5,000-token pool are gathered (ANALYZE), the plans still seek', () => {
    db.exec('ANALYZE');

    for (const sql of poolStatements()) {
      const plan = planOf(db, sql);
      expect(fullReads(plan), `${sql}\n→ ${JSON.stringify(plan.map((s) => s.detail))}`).to.deep.equal([]);
    }
  });

  it('when planned by SQLite, the statements the count triggers run are seeks too', () => {
    const statements = triggerStatements(db);
    expect(statements, 'one statement per insert, delete and holder update trigger').to.have.length(3);

    for (const sql of statements) {
      const plan = planOf(db, sql);
      expect(plan, sql).to.not.deep.equal([]);
      expect(fullReads(plan), `${sql}\n→ ${JSON.stringify(plan.map((s) => s.detail))}`).to.deep.equal([]);
    }
  });

  it('the check itself fails on a full scan and on a sort of every row', () => {
    expect(fullReads(planOf(db, 'SELECT token FROM pool_tokens WHERE length(token) = ?'))).to.have.length.greaterThan(0);
    expect(fullReads(planOf(db, 'SELECT count(*) FROM pool_tokens'))).to.have.length.greaterThan(0);
    expect(fullReads(planOf(db, 'SELECT token FROM pool_tokens WHERE alive_until <= ? ORDER BY holder LIMIT 1'))).to.have.length.greaterThan(0);
  });
});
