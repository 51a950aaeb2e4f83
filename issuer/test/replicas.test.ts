/**
 * Three issuers on one PostgreSQL (and one JetStream), as replicas behind a load balancer: every
 * route works through any of them, the outbox goes out once and in order per key whichever of
 * them run, a rotation through one is used by all, and a key changed through two at once loses
 * neither change.
 */
import { expect } from 'chai';
import request from 'supertest';
import { connectNats, type KeyEvent, type NatsConnection } from '@akm/common';
import { followKeyStream } from '../../test/support/key-stream.js';
import { createTestDatabase, startNats, startPostgres, waitFor, type TestServer } from '../../test/support/processes.js';
import { stopEach } from '../../test/support/teardown.js';
import { startTestIssuer, TEST_MASTER_KEY, type TestIssuer } from './support/issuer-fixture.js';

describe('issuer replicas on one PostgreSQL', function () {
  this.timeout(90_000);
  let postgres: TestServer | undefined;
  let nats: TestServer | undefined;
  let nc: NatsConnection | undefined;
  let databaseUrl: string;
  const replicas: TestIssuer[] = [];
  /** Every event on the stream, in stream order, as a consumer from the start saw it. */
  const seen: KeyEvent[] = [];

  before(async () => {
    [postgres, nats] = await Promise.all([startPostgres(), startNats({ owned: true })]);
    databaseUrl = await createTestDatabase(postgres);
    nc = await connectNats({ url: nats.url, name: 'replicas-test' });
    await followKeyStream(nc, seen);
    for (let i = 0; i < 3; i++) replicas.push(await startTestIssuer({ databaseUrl, masterKey: TEST_MASTER_KEY, natsUrl: nats.url }));
  });
  after(() =>
    stopEach(
      ...replicas.map((r) => () => r.destroy()),
      () => nc?.close(),
      () => nats?.destroy(),
      () => postgres?.destroy(),
    ),
  );

  /** The events the replicas sent to JetStream, summed over their /metrics. */
  const publishedByAll = async () => {
    let total = 0;
    for (const r of replicas) {
      const text = (await request(r.url).get('/metrics')).text;
      total += Number(/^akm_issuer_events_published_total (\d+)$/m.exec(text)?.[1] ?? 0);
    }
    return total;
  };
  const admin = (r: TestIssuer) => ({ Authorization: `Bearer ${r.admin}` });
  const committed = async () => (await replicas[0]!.db.all<{ event_id: string }>('SELECT event_id FROM outbox')).map((r) => r.event_id);
  /** Waits until every committed event is on the stream, then checks once each and in version order per key. */
  async function expectStreamMatchesOutbox(db = replicas[2]!.db) {
    const ids = (await db.all<{ event_id: string }>('SELECT event_id FROM outbox')).map((r) => r.event_id);
    await waitFor(() => ids.every((id) => seen.some((e) => e.id === id)), 10_000, 20);
    const counts = new Map<string, number>();
    for (const e of seen) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1), 'events on the stream more than once').to.deep.equal([]);
    const lastVersion = new Map<string, number>();
    for (const e of seen) {
      expect(e.version, `key ${e.keyId}: version ${e.version} after ${lastVersion.get(e.keyId)}`).to.be.above(lastVersion.get(e.keyId) ?? 0);
      lastVersion.set(e.keyId, e.version);
    }
    return ids.length;
  }

  it('every route works through any replica, and each committed change is on the stream once, in version order per key', async () => {
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const via = replicas[i % 3]!;
        const res = await request(via.url).post('/admin/keys').set(admin(via)).send({ sub: `svc-${i}`, ttl: 3600 });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        ids.push(res.body.id as string);
      }),
    );
    await Promise.all(
      ids.map(async (id, i) => {
        const via = replicas[(i + 1) % 3]!;
        const read = await request(via.url).get(`/admin/keys/${id}`).set(admin(via));
        expect(read.status, 'a key made through one replica is read through another').to.equal(200);
        const patched = await request(via.url).patch(`/admin/keys/${id}`).set(admin(via)).send({ rateLimit: 7 });
        expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
        const other = replicas[(i + 2) % 3]!;
        if (i % 2 === 0) expect((await request(other.url).delete(`/admin/keys/${id}`).set(admin(other))).status).to.equal(204);
      }),
    );
    const published = await expectStreamMatchesOutbox();
    expect(published, 'created, changed, and half of them revoked').to.equal(24 + 24 + 12);
    expect(await committed()).to.have.length(published);
    // One replica at a time publishes: together they sent each event once, not once each.
    await waitFor(async () => (await publishedByAll()) >= published, 5000, 20);
    expect(await publishedByAll(), 'events sent by the three replicas together').to.equal(published);
  });

  it('two replicas changing one key at the same moment lose neither change', async () => {
    const [a, b] = replicas;
    const created = await request(a!.url).post('/admin/keys').set(admin(a!)).send({ sub: 'both', ttl: 3600 });
    const id = created.body.id as string;
    const [viaA, viaB] = await Promise.all([
      request(a!.url).patch(`/admin/keys/${id}`).set(admin(a!)).send({ rateLimit: 42 }),
      request(b!.url).patch(`/admin/keys/${id}`).set(admin(b!)).send({ status: 'disabled' }),
    ]);
    expect([viaA.status, viaB.status], JSON.stringify([viaA.body, viaB.body])).to.deep.equal([200, 200]);
    const final = (await request(b!.url).get(`/admin/keys/${id}`).set(admin(b!))).body;
    expect(final).to.include({ rateLimit: 42, status: 'disabled' });
    await expectStreamMatchesOutbox();
    expect(seen.filter((e) => e.keyId === id).map((e) => e.version)).to.deep.equal([1, 2, 3]);
  });

  it('a rotation through one replica is used by the others within seconds, and private keys are kept sealed in the database', async () => {
    const rotated = await request(replicas[0]!.url).post('/admin/signing-keys/rotate').set(admin(replicas[0]!));
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(201);
    const kid = rotated.body.kid as string;
    for (const via of replicas.slice(1)) {
      await waitFor(async () => {
        const res = await request(via.url).post('/admin/keys').set(admin(via)).send({ sub: 'after-rotation', ttl: 600 });
        const header = JSON.parse(Buffer.from(String(res.body.key).split('.')[0]!, 'base64url').toString()) as { kid: string };
        return header.kid === kid;
      }, 10_000, 250);
      const jwks = await request(via.url).get('/.well-known/jwks.json');
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).to.include(rotated.body.next);
    }
    const rows = await replicas[0]!.db.all<{ kid: string; private_key: string | null }>('SELECT kid, private_key FROM signing_keys');
    expect(rows.length).to.be.at.least(3);
    for (const row of rows) {
      expect(row.private_key, `${row.kid} is sealed`).to.match(/^a256gcm-v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.private_key).to.not.include('"d"');
    }
  });

  it('a replica that signs nothing publishes the next key of another replica\'s rotation within the seconds it follows rotations', async () => {
    const kids = async (via: TestIssuer) => ((await request(via.url).get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid);
    await kids(replicas[1]!); // its published set, just read
    const rotated = await request(replicas[0]!.url).post('/admin/signing-keys/rotate').set(admin(replicas[0]!));
    expect(rotated.status, JSON.stringify(rotated.body)).to.equal(201);
    // Two seconds (how often a replica follows rotations) and a margin.
    await waitFor(async () => (await kids(replicas[1]!)).includes(rotated.body.next as string), 3500, 100);
  });

  it('a replica given another AKM_MASTER_KEY refuses to start, naming AKM_MASTER_KEY', async () => {
    const err = await startTestIssuer({ databaseUrl, masterKey: 'another master key of thirty-two characters', natsUrl: nats!.url }).then(
      async (started) => {
        await started.destroy();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.include('AKM_MASTER_KEY');
  });

  it('three replicas started at the same moment on an empty database all start, with one admin, and soon sign with one key', async () => {
    const url = await createTestDatabase(postgres!);
    const together = await Promise.all(Array.from({ length: 3 }, () => startTestIssuer({ databaseUrl: url, masterKey: TEST_MASTER_KEY })));
    try {
      expect(await together[0]!.db.get('SELECT count(*) AS n FROM users')).to.deep.equal({ n: 1 });
      const kidOf = async (r: TestIssuer) => {
        const res = await request(r.url).post('/admin/keys').set(admin(r)).send({ sub: 'together', ttl: 600 });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        return (JSON.parse(Buffer.from(String(res.body.key).split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
      };
      await waitFor(async () => new Set(await Promise.all(together.map(kidOf))).size === 1, 10_000, 250);
    } finally {
      await Promise.all(together.map((r) => r.destroy()));
    }
  });

  it('when the replica that publishes stops, another takes over: changes through the rest still reach the stream', async () => {
    for (let stopped = 0; stopped < 2; stopped++) {
      await replicas[stopped]!.stop();
      const via = replicas[2]!;
      const res = await request(via.url).post('/admin/keys').set(admin(via)).send({ sub: `after-stop-${stopped}`, ttl: 600 });
      expect(res.status).to.equal(201);
      await waitFor(() => seen.some((e) => e.keyId === res.body.id), 10_000, 20);
    }
    await expectStreamMatchesOutbox(replicas[2]!.db);
  });
});
