/**
 * `akm migrate`: a SQLite issuer's data moved into PostgreSQL with one command, and an issuer on
 * PostgreSQL (with a data directory of its own) serving it as before: users, keys, their events
 * and cursors, the pool, and the API keys signed before the move.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createTestDatabase, startPostgres, type TestServer } from '../../../test/support/processes.js';
import { stopEach } from '../../../test/support/teardown.js';
import { startTestIssuer, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY, type TestIssuer } from '../support/issuer-fixture.js';
import { jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm migrate: a SQLite issuer into PostgreSQL', function () {
  this.timeout(90_000);
  let postgres: TestServer | undefined;
  let cli: CliHarness | undefined;
  let moved: TestIssuer | undefined;
  const dirs: string[] = [];
  before(async () => {
    postgres = await startPostgres();
  });
  after(() => stopEach(() => moved?.destroy(), () => cli?.destroy(), () => postgres?.destroy(), () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))));

  it('copies users, keys with their events and order, the pool and the signing keys; the old API keys work on the new issuer', async () => {
    cli = await startCliHarness();
    const old = cli.issuer;
    const auth = { Authorization: `Bearer ${old.admin}` };
    expect((await request(old.url).post('/admin/users').set(auth).send({ username: 'uma', password: 'uma password 1234', role: 'user' })).status).to.equal(201);
    const keys: string[] = [];
    const secrets: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(old.url).post('/admin/keys').set(auth).send({ sub: i === 0 ? 'uma' : `svc-${i}`, ttl: 3600 });
      keys.push(res.body.id as string);
      secrets.push(res.body.key as string);
    }
    expect((await request(old.url).delete(`/admin/keys/${keys[1]}`).set(auth)).status).to.equal(204);
    expect((await request(old.url).post('/pool/tokens').set(auth).send({ count: 2 })).status).to.equal(201);
    const listedBefore = (await request(old.url).get('/admin/keys').query({ limit: 2 }).set(auth)).body;
    const url = await createTestDatabase(postgres!);
    const env = { AKM_MASTER_KEY: TEST_MASTER_KEY };

    const whileRunning = await cli.akm(['migrate', '--to', url], { env });
    expect(oneLineFailure(whileRunning, 1), 'the issuer must be stopped first').to.include('in use by another issuer');

    await old.stop();
    const counts = jsonOf(await cli.akm(['--json', 'migrate', '--to', url], { env }));
    expect(counts).to.include({ users: 2, keys: 5, pool_tokens: 2, 'private signing keys': 2 });
    expect(oneLineFailure(await cli.akm(['migrate', '--to', url], { env }), 1), 'never into a database with data').to.include('already holds issuer data');
    const forPeople = await cli.akm(['migrate', '--to', await createTestDatabase(postgres!)], { env });
    expect(forPeople.code, forPeople.stderr).to.equal(0);
    const lines = forPeople.stdout.trim().split('\n');
    expect(lines, 'a line per table as it is copied').to.include.members(['copied users: 2', 'copied keys: 5', 'copied pool_tokens: 2', 'copied private signing keys: 2']);
    expect(lines.indexOf('copied users: 2'), 'in copy order').to.be.below(lines.indexOf('copied keys: 5'));
    expect(lines.at(-1)).to.match(/^done: committed \d+ rows of 10 tables and 2 private signing keys .*DATABASE_URL/);
    expect(oneLineFailure(await cli.akm(['migrate', '--to', url], { env: {} }), 1)).to.include('AKM_MASTER_KEY');

    // Another data directory: nothing of the old one (its key files) is needed any more.
    const fresh = mkdtempSync(join(tmpdir(), 'akm-migrated-'));
    dirs.push(fresh);
    moved = await startTestIssuer({ dataDir: fresh, databaseUrl: url, masterKey: TEST_MASTER_KEY });
    const admin = { Authorization: `Bearer ${moved.admin}` };
    const login = await request(moved.url).post('/auth/login').send({ username: 'admin', password: TEST_ADMIN_PASSWORD });
    expect(login.status, 'the admin signs in with the same password').to.equal(200);
    const listedAfter = (await request(moved.url).get('/admin/keys').query({ limit: 2 }).set(admin)).body;
    expect(listedAfter, 'the same first page and the same cursor').to.deep.equal(listedBefore);
    const revoked = (await request(moved.url).get(`/admin/keys/${keys[1]}`).set(admin)).body;
    expect(revoked.status).to.equal('revoked');
    const events = (await request(moved.url).get(`/admin/keys/${keys[1]}/events`).set(admin)).body.items.map((e: { type: string }) => e.type);
    expect(events).to.deep.equal(['key.revoked', 'key.created']);
    const disable = await request(moved.url).post('/key/disable').set('Authorization', `Bearer ${secrets[2]}`);
    expect(disable.status, `an API key signed before the move works: ${JSON.stringify(disable.body)}`).to.equal(200);
    const stats = (await request(moved.url).get('/pool/stats').set(admin)).body;
    expect(stats).to.include({ total: 2, available: 2 });
    const created = await request(moved.url).post('/admin/keys').set(admin).send({ sub: 'after-move', ttl: 600 });
    expect(created.status).to.equal(201);
    const page = (await request(moved.url).get('/admin/keys').query({ limit: 1 }).set(admin)).body;
    expect(page.items[0].id, 'a new key comes after the moved ones').to.equal(created.body.id);

    const minted = await cli.akm(['admin-token'], { env: { ...env, DATABASE_URL: url, AKM_DATA_DIR: fresh } });
    expect(minted.code, minted.stderr).to.equal(0);
    const asMinted = await request(moved.url).get('/admin/users').set('Authorization', `Bearer ${minted.stdout.trim()}`);
    expect(asMinted.status, 'akm admin-token signs with the key sealed in PostgreSQL').to.equal(200);
  });
});
