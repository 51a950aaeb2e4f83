/**
 * Case 10: issuer replicas on one PostgreSQL. Three issuer processes take a steady stream of key
 * creations and revocations, through all three; one is SIGKILLed, then another. Afterwards every
 * committed change is on the stream once per event id and in version order per key, every
 * verifier refuses every revoked key, and no request got a 5xx but those in flight at a kill.
 * Then PostgreSQL itself is killed and restarted under writes: meanwhile they answer 503
 * storage_failed (never a bare 500), and nothing that was confirmed is lost.
 */
import { expect } from 'chai';
import pg from 'pg';
import { connectNats, type KeyEvent, type NatsConnection } from '@akm/common';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { followKeyStream } from '../support/key-stream.js';
import { createTestDatabase, startNats, startPostgres, waitFor, type TestServer } from '../support/processes.js';
import { call, notYetRevoked, shown, signInAdmin, untilRevokedEverywhere, type Answer, type IssuerAdmin, type MintedKey } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, rememberSecret, reportFigure } from './support/run.js';

const MASTER_KEY = `faults-master-key-${Math.random().toString(36).slice(2)}-0123456789`;
/** One request of the load and how it ended. */
interface Outcome {
  via: number;
  status: number | 'network';
  startedAt: number;
  endedAt: number;
  answer?: Answer;
}

describe('case 10: issuer replicas on one PostgreSQL, replicas and the database killed under load', function () {
  this.timeout(180_000);
  let postgres: TestServer;
  let nats: TestServer;
  let nc: NatsConnection | undefined;
  let databaseUrl: string;
  const issuers: AkmProcess[] = [];
  const verifiers: AkmProcess[] = [];
  const seen: KeyEvent[] = [];

  before(async () => {
    rememberSecret(MASTER_KEY, 'master key');
    [postgres, nats] = await Promise.all([startPostgres({ owned: true }), startNats({ owned: true })]);
    databaseUrl = await createTestDatabase(postgres);
    nc = await connectNats({ url: nats.url, name: 'case10' });
    await followKeyStream(nc, seen);
    const env = { DATABASE_URL: databaseUrl, AKM_MASTER_KEY: MASTER_KEY };
    // One at a time: the first creates the schema and the admin, as a first deployment does.
    for (let i = 0; i < 3; i++) {
      issuers.push(
        await startIssuerProcess({ logDir: LOG_DIR, name: `case10-issuer-${i}`, dataDir: `${LOG_DIR}/case10-data-${i}`, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url, env }),
      );
    }
    // The verifiers fetch the JWKS from the replica that is never killed.
    for (let i = 0; i < 2; i++) {
      verifiers.push(await startVerifierProcess({ logDir: LOG_DIR, name: `case10-verifier-${i}`, issuerUrl: issuers[2]!.url, natsUrl: nats.url }));
    }
    await waitFor(async () => (await Promise.all(verifiers.map((v) => call(v.url, '/readyz')))).every((r) => r.status === 200), 20_000, 50);
  });
  after(async () => {
    await Promise.all([...issuers, ...verifiers].map((p) => p.kill()));
    await nc?.close().catch(() => undefined);
    await nats?.destroy();
    await postgres?.destroy();
  });

  /** The outbox as PostgreSQL holds it: every committed change. */
  async function committedEvents(): Promise<string[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<{ event_id: string }>('SELECT event_id FROM outbox ORDER BY seq')).rows.map((r) => r.event_id);
    } finally {
      await client.end();
    }
  }

  it('SIGKILL of two of three replicas under creations and revocations: every change on the stream once and in order, every revocation enforced', async () => {
    const admins: IssuerAdmin[] = await Promise.all(issuers.map((i) => signInAdmin(i.url)));
    const dead = new Set<number>();
    const killedAt = new Map<number, number>();
    const outcomes: Outcome[] = [];
    const minted: MintedKey[] = [];
    const revoked: MintedKey[] = [];
    let stop = false;
    let n = 0;

    const request = async (via: number, path: string, init: Parameters<typeof call>[2]) => {
      const startedAt = Date.now();
      try {
        const answer = await call(issuers[via]!.url, path, { ...init, token: admins[via]!.token, timeoutMs: 5000 });
        outcomes.push({ via, status: answer.status, startedAt, endedAt: Date.now(), answer });
        return answer;
      } catch {
        outcomes.push({ via, status: 'network', startedAt, endedAt: Date.now() });
        return undefined;
      }
    };
    const worker = async () => {
      while (!stop) {
        const live = [0, 1, 2].filter((i) => !dead.has(i));
        const via = live[n++ % live.length]!;
        const created = await request(via, '/admin/keys', { method: 'POST', body: { sub: `case10-${n}`, rateLimit: 1000 } });
        if (created?.status === 201) {
          const key = { id: String(created.body.id), key: String(created.body.key) };
          rememberSecret(key.key, 'API key');
          minted.push(key);
        }
        // Every other step revokes a key made earlier, through another replica.
        const victim = n % 2 === 0 ? minted[Math.floor(minted.length / 2)] : undefined;
        if (victim && !revoked.includes(victim)) {
          const now = [0, 1, 2].filter((i) => !dead.has(i));
          const other = now[(n + 1) % now.length]!;
          const res = await request(other, `/admin/keys/${victim.id}`, { method: 'DELETE' });
          if (res?.status === 204) revoked.push(victim);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, worker));
    for (const victim of [0, 1]) {
      await new Promise((r) => setTimeout(r, 1500));
      dead.add(victim);
      killedAt.set(victim, Date.now());
      await issuers[victim]!.kill('SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await load;

    // Failures only on a killed replica, for requests under way when it was killed.
    const inFlight = (o: Outcome) => killedAt.has(o.via) && o.startedAt <= killedAt.get(o.via)! + 50;
    const failures = outcomes.filter((o) => o.status === 'network' || (typeof o.status === 'number' && o.status >= 500));
    expect(failures.filter((o) => !inFlight(o)).map((o) => `via ${o.via}: ${o.answer ? shown(o.answer) : 'network error'}`), 'failures not explained by a kill').to.deep.equal([]);
    expect(outcomes.filter((o) => typeof o.status === 'number' && o.status < 500 && o.status >= 400).map((o) => shown(o.answer!)), '4xx').to.deep.equal([]);

    const committed = await committedEvents();
    await waitFor(() => committed.every((id) => seen.some((e) => e.id === id)), 20_000, 50);
    const perId = new Map<string, number>();
    for (const e of seen) perId.set(e.id, (perId.get(e.id) ?? 0) + 1);
    expect([...perId].filter(([, count]) => count > 1), 'events on the stream more than once').to.deep.equal([]);
    const lastVersion = new Map<string, number>();
    const outOfOrder: string[] = [];
    for (const e of seen) {
      if ((lastVersion.get(e.keyId) ?? 0) >= e.version) outOfOrder.push(`${e.keyId} v${e.version} after v${lastVersion.get(e.keyId)}`);
      lastVersion.set(e.keyId, e.version);
    }
    expect(outOfOrder, 'events out of version order').to.deep.equal([]);

    const convergedMs = await untilRevokedEverywhere(verifiers.map((v) => v.url), revoked, 20_000);
    for (const v of verifiers) {
      const stillActive = minted.filter((k) => !revoked.includes(k)).slice(-20);
      const refusedActive = (await notYetRevoked(v.url, stillActive)).filter((l) => l.answer.status !== 200);
      expect(refusedActive.map((l) => shown(l.answer)), `${v.name}: keys still active`).to.deep.equal([]);
    }

    reportFigure({ case: 10, name: 'requests through three replicas while two were killed (ok / failed in flight)', value: `${outcomes.length - failures.length} / ${failures.length}` });
    reportFigure({ case: 10, name: 'committed events, each on the stream once and in order', value: committed.length });
    reportFigure({ case: 10, name: `${revoked.length} revocations refused by both verifiers, after the load`, value: convergedMs, unit: 'ms' });
  });

  it('PostgreSQL killed and restarted under writes: 503 storage_failed meanwhile, nothing confirmed is lost', async () => {
    const survivor = issuers[2]!;
    const admin = await signInAdmin(survivor.url);
    const confirmed: string[] = [];
    const refused: Answer[] = [];
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const res = await call(survivor.url, '/admin/keys', { method: 'POST', token: admin.token, body: { sub: 'case10-pg', rateLimit: 5 }, timeoutMs: 10_000 }).catch(
          () => undefined,
        );
        if (res?.status === 201) confirmed.push(String(res.body.id));
        else if (res) refused.push(res);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    await waitFor(() => confirmed.length >= 20, 10_000, 10);
    await postgres.kill();
    const downAt = Date.now();
    await waitFor(() => refused.length >= 5, 10_000, 10);
    await postgres.start();
    const before = confirmed.length;
    await waitFor(() => confirmed.length > before + 20, 30_000, 20);
    const recoveredMs = Date.now() - downAt;
    stop = true;
    await load;

    const wrong = refused.filter((r) => !(r.status === 503 && r.body.code === 'storage_failed'));
    expect(wrong.map(shown), 'every refusal is 503 storage_failed').to.deep.equal([]);
    const lost: string[] = [];
    for (const id of confirmed) {
      const res = await call(survivor.url, `/admin/keys/${id}`, { token: admin.token });
      if (res.status !== 200) lost.push(`${id}: ${shown(res)}`);
    }
    expect(lost, 'confirmed keys missing after the restart').to.deep.equal([]);
    const committed = await committedEvents();
    await waitFor(() => committed.every((id) => seen.some((e) => e.id === id)), 20_000, 50);

    reportFigure({ case: 10, name: 'PostgreSQL down: writes refused with 503 storage_failed', value: refused.length });
    reportFigure({ case: 10, name: 'PostgreSQL killed until writes succeed again', value: recoveredMs, unit: 'ms' });
  });
});
