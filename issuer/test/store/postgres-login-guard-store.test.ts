/**
 * The sign-in guard on PostgreSQL under a flood of sign-ins, through two issuers on one database:
 * its steps take turns on an advisory lock, and a step waiting for that lock holds a pool
 * connection, so without a bound the flood would hold every connection of every issuer and other
 * requests would wait behind it (or fail once the pool's 5 s wait is over).
 */
import { expect } from 'chai';
import pg from 'pg';
import request from 'supertest';
import { createTestDatabase, startPostgres, type TestServer } from '../../../test/support/processes.js';
import { stopEach } from '../../../test/support/teardown.js';
import { startTestIssuer, TEST_MASTER_KEY, type TestIssuer } from '../support/issuer-fixture.js';

/** The guard's advisory lock key (`postgres-login-guard-store.ts`), as `pg_locks.objid` shows it. */
const GUARD_LOCK = 0x616b6d04;

describe('sign-in guard on PostgreSQL under a flood of sign-ins', function () {
  this.timeout(90_000);
  let postgres: TestServer | undefined;
  let probe: pg.Client | undefined;
  const issuers: TestIssuer[] = [];

  before(async () => {
    postgres = await startPostgres();
    const databaseUrl = await createTestDatabase(postgres);
    // Limits high enough that every attempt reaches the password check, as a spread-out attack's do.
    const loginGuard = { perUser: 100_000, perAddress: 100_000, perUserAddress: 100_000 };
    for (let i = 0; i < 2; i++) issuers.push(await startTestIssuer({ databaseUrl, masterKey: TEST_MASTER_KEY, trustProxy: 1, loginGuard }));
    probe = new pg.Client({ connectionString: databaseUrl });
    await probe.connect();
  });
  after(() => stopEach(() => probe?.end(), ...issuers.map((i) => () => i.destroy()), () => postgres?.destroy()));

  it('holds at most one connection per issuer for the guard, and other requests are served meanwhile', async () => {
    /** Most sessions of the database seen waiting for the guard's advisory lock at once. */
    let mostWaiting = 0;
    let flooding = true;
    const sampler = (async () => {
      while (flooding) {
        const { rows } = await probe!.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [GUARD_LOCK],
        );
        mostWaiting = Math.max(mostWaiting, rows[0]!.n);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const flood = Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        request(issuers[i % 2]!.url)
          .post('/auth/login')
          .set('X-Forwarded-For', `10.${i % 250}.${i % 7}.1`)
          .send({ username: `guess-${i}`, password: 'not the password' }),
      ),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 10; i++) {
        const ready = await request(issuers[i % 2]!.url).get('/readyz');
        expect(ready.status, `/readyz during the flood: ${JSON.stringify(ready.body)}`).to.equal(200);
      }
      const answers = await flood;
      expect(answers.filter((r) => r.status !== 401).map((r) => `${r.status} ${r.body.code}`), 'every guess refused as a wrong password').to.deep.equal([]);
    } finally {
      flooding = false;
      await sampler;
    }
    // Each issuer's guard steps queue in memory for one connection: only the other issuer's can wait.
    expect(mostWaiting, 'sessions waiting for the guard lock at once').to.be.at.most(issuers.length - 1);
  });
});
