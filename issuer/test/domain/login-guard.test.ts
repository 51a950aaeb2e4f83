import { expect } from 'chai';
import { createTestDatabase, startPostgres, type TestServer } from '../../../test/support/processes.js';
import { createLoginGuard, type LoginGuardStore } from '../../src/domain/login-guard.js';
import { createPostgresClient, type PostgresClient } from '../../src/store/postgres-client.js';
import { createPostgresLoginGuardStore } from '../../src/store/postgres-login-guard-store.js';
import { migratePostgres } from '../../src/store/postgres-schema.js';

const limits = { perUserAddress: 5, perUser: 20, perAddress: 50, windowSeconds: 900 };

/** The guard's rules on each store: memory (one issuer) and PostgreSQL (replicas). */
const stores: Array<{ name: string; names: number; make?: (now: () => number) => Promise<LoginGuardStore> }> = [
  { name: 'memory', names: 60_000 },
  { name: 'PostgreSQL', names: 300 },
];

describe('login guard', function () {
  this.timeout(60_000);
  let postgres: TestServer | undefined;
  const clients: PostgresClient[] = [];
  before(async () => {
    postgres = await startPostgres();
    stores[1]!.make = async (now) => {
      const client = createPostgresClient({ url: await createTestDatabase(postgres!) });
      clients.push(client);
      await migratePostgres(client);
      return createPostgresLoginGuardStore(client, now);
    };
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await postgres?.destroy();
  });

  for (const store of stores) {
    describe(`on ${store.name}`, () => {
      let t: number;
      const now = () => t;
      const guardOf = async () => createLoginGuard({ ...limits, now, ...(store.make ? { store: await store.make(now) } : {}) });
      beforeEach(() => {
        t = Date.UTC(2030, 0, 1);
      });

      it(`when ${store.names} distinct 250-character names are tried from one address, holds the entries of the 50 it allowed and no more`, async () => {
        const guard = await guardOf();
        let allowed = 0;
        for (let n = 0; n < store.names; n++) if ((await guard.begin(`${n}-${'n'.repeat(244)}`, '203.0.113.1')).ok) allowed++;

        expect(allowed).to.equal(50);
        expect(await guard.size(), 'one address count, 50 name counts, 50 (name, address) counts').to.equal(1 + 50 + 50);
      });

      it('forgets every count once its window has passed, without being asked about it again', async () => {
        const guard = await guardOf();
        for (let n = 0; n < 200; n++) await guard.begin(`user${n}`, `198.51.100.${n % 200}`);
        expect(await guard.size()).to.be.greaterThan(0);

        t += 900_000;

        expect(await guard.size()).to.equal(0);
      });

      it('remembers at most 10 addresses per user it signed in from, the latest ones', async () => {
        const guard = await guardOf();
        for (let a = 0; a < 25; a++) {
          t += 1000;
          const check = await guard.begin('bob', `192.0.2.${a}`);
          if (!check.ok) throw new Error('refused');
          await guard.succeeded(check.attempt);
        }
        expect(await guard.size(), 'known addresses only: successes leave no count behind').to.equal(10);
        expect(await guard.begin('bob', '192.0.2.24')).to.deep.include({ ok: true });
        expect(((await guard.begin('bob', '192.0.2.24')) as { attempt: { known: boolean } }).attempt.known).to.equal(true);
        expect(((await guard.begin('bob', '192.0.2.0')) as { attempt: { known: boolean } }).attempt.known, 'the oldest was forgotten').to.equal(false);
      });

      it('lets 5 of 20 simultaneous attempts at one name from one address through, and an unlock lifts the lock', async () => {
        const guard = await guardOf();
        const checks = await Promise.all(Array.from({ length: 20 }, () => guard.begin('carol', '198.51.100.7')));
        expect(checks.filter((c) => c.ok)).to.have.length(5);
        expect(checks.find((c) => !c.ok)).to.deep.include({ ok: false, retryAfterSeconds: 900 });
        await guard.unlock('Carol');
        expect((await guard.begin('carol', '198.51.100.7')).ok).to.equal(true);
      });
    });
  }

  it('on PostgreSQL, two guards with connections of their own (two replicas) count attempts together', async () => {
    const url = await createTestDatabase(postgres!);
    const [one, two] = [createPostgresClient({ url }), createPostgresClient({ url })];
    clients.push(one, two);
    await migratePostgres(one);
    const [a, b] = [one, two].map((c) => createLoginGuard({ ...limits, now: Date.now, store: createPostgresLoginGuardStore(c, Date.now) }));
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).begin('dave', '192.0.2.99')));
    expect(results.filter((r) => r.ok), 'the 5 attempts per name and address, across both').to.have.length(5);
  });
});
