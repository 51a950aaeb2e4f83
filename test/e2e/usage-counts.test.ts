/**
 * Usage counts end to end, as deployed: an issuer process, two verifier processes reporting into
 * the AKM_USAGE stream of a real nats-server, and the issuer SIGKILLed and restarted while the
 * verifiers keep reporting. Every request's outcome is read from its answer, and the counts the
 * issuer serves must match them exactly: nothing lost, nothing counted twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectNats, USAGE_OUTCOMES, USAGE_STREAM, USAGE_SUBJECTS, usageSubject, type NatsConnection, type UsageCounts, type UsageReport } from '@akm/common';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';

const PASSWORD = 'usage test admin password';
const OUTCOME_OF: Record<string, keyof UsageCounts> = {
  '200': 'served',
  '429': 'rate_limited',
  credits_exhausted: 'credits_exhausted',
  '403': 'forbidden',
  key_revoked: 'revoked',
  key_disabled: 'disabled',
  key_expired: 'expired',
};
const zero = (): UsageCounts => Object.fromEntries(USAGE_OUTCOMES.map((o) => [o, 0])) as UsageCounts;

describe('e2e: usage counts match the requests made, across two verifiers and an issuer restart', function () {
  this.timeout(120_000);
  let nats: TestServer;
  let dir: string;
  let issuer: AkmProcess;
  const verifiers: AkmProcess[] = [];
  let nc: NatsConnection;

  before(async () => {
    nats = await startNats({ owned: true });
    dir = mkdtempSync(join(tmpdir(), 'akm-usage-e2e-'));
    issuer = await startIssuerProcess({ logDir: dir, name: 'issuer', dataDir: join(dir, 'data'), adminPassword: PASSWORD, natsUrl: nats.url });
    for (const name of ['verifier-a', 'verifier-b']) {
      verifiers.push(
        await startVerifierProcess({ logDir: dir, name, issuerUrl: issuer.url, natsUrl: nats.url, env: { VERIFIER_USAGE_INTERVAL_MS: '200' } }),
      );
    }
    nc = await connectNats({ url: nats.url, name: 'usage-test' });
  });
  after(async () => {
    await nc?.close();
    for (const v of verifiers) await v.stop();
    await issuer?.stop();
    await nats?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every outcome of every key, counted exactly once', async () => {
    const signInAdmin = async () => {
      const login = await fetch(`${issuer.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: PASSWORD }),
      });
      expect(login.status).to.equal(200);
      return ((await login.json()) as { token: string }).token;
    };
    let admin = await signInAdmin();
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${issuer.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
    };
    const mint = async (spec: Record<string, unknown>) => {
      const res = await api('POST', '/admin/keys', { sub: 'usage', ttl: 3600, ...spec });
      expect(res.status, res.text).to.equal(201);
      return res.body as { id: string; key: string };
    };
    const started = Math.floor(Date.now() / 1000);
    const busy = await mint({ rateLimit: 10_000 });
    const small = await mint({ rateLimit: 4 });
    const doomed = await mint({});
    const paused = await mint({});
    const short = await mint({});
    const metered = await mint({ credits: { remaining: 3 } });
    await Promise.all(verifiers.map((v) => waitFor(async () => (await fetch(`${v.url}/readyz`)).status === 200, 15_000, 50)));

    // What each request came to, read from its answer: the truth the counts must match.
    const expected = new Map<string, UsageCounts>();
    let uncounted = 0;
    async function call(v: AkmProcess, key: { id: string; key: string }, path = '/price?symbol=BTC') {
      const res = await fetch(`${v.url}${path}`, { headers: { authorization: `Bearer ${key.key}` } });
      const body = (await res.json()) as { code?: string };
      const outcome = OUTCOME_OF[body.code ?? ''] ?? OUTCOME_OF[String(res.status)];
      if (!outcome) {
        uncounted++;
        return undefined;
      }
      const counts = expected.get(key.id) ?? zero();
      counts[outcome]++;
      expected.set(key.id, counts);
      return outcome;
    }
    const [a, b] = verifiers as [AkmProcess, AkmProcess];
    async function traffic(rounds: number) {
      for (let i = 0; i < rounds; i++) {
        await Promise.all([call(a, busy), call(b, busy), call(a, small), call(b, small), call(i % 2 ? a : b, metered), call(i % 2 ? a : b, busy, '/admin/verifier')]);
      }
    }

    await traffic(10);
    expect((await api('DELETE', `/admin/keys/${doomed.id}`)).status).to.equal(204);
    expect((await api('PATCH', `/admin/keys/${paused.id}`, { status: 'disabled' })).status).to.equal(200);
    const soon = new Date(Date.now() + 2500).toISOString();
    expect((await api('PATCH', `/admin/keys/${short.id}`, { expiresAt: soon })).status).to.equal(200);
    for (const v of verifiers) {
      await waitFor(async () => (await call(v, doomed)) === 'revoked', 5000, 20);
      await waitFor(async () => (await call(v, paused)) === 'disabled', 5000, 20);
    }

    // A real report, captured off the wire, to be delivered again later.
    const captured: UsageReport[] = [];
    const sub = nc.subscribe(USAGE_SUBJECTS, { callback: (_e, m) => void captured.push(m.json<UsageReport>()) });

    await issuer.kill('SIGKILL');
    await traffic(15); // the verifiers keep reporting into the stream while the issuer is gone
    await new Promise((r) => setTimeout(r, 3000));
    for (const v of verifiers) await call(v, short); // expired by now
    await issuer.start();
    admin = await signInAdmin();
    await traffic(10);

    await waitFor(() => captured.length > 0, 5000, 20);
    sub.unsubscribe();
    const again = captured[0]!;
    // Past the server's duplicate window a re-send is stored again: the issuer must know the id.
    await jetstream(nc).publish(usageSubject(again.source), JSON.stringify(again), { msgID: `${again.id}-again` });

    for (const v of verifiers) expect(await v.stop(), 'a verifier stops cleanly, sending its last interval').to.equal(0);
    const jsm = await jetstreamManager(nc);
    const drained = async () => {
      const info = await jsm.consumers.info(USAGE_STREAM, 'akm-issuer-usage');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    };
    await waitFor(drained, 40_000, 100); // reports delivered to the killed issuer come again after the ack wait (10 s)

    const from = new Date((started - (started % 3600)) * 1000).toISOString();
    const check = async (when: string) => {
      for (const [id, counts] of expected) {
        const res = await api('GET', `/admin/keys/${id}/usage?from=${from}&granularity=hour`);
        expect(res.status, res.text).to.equal(200);
        expect(res.body.totals, `${when}: key ${id}`).to.deep.equal(counts);
      }
    };
    await check('after the restart');
    const all = [...expected.values()].reduce((n, c) => n + USAGE_OUTCOMES.reduce((m, o) => m + c[o], 0), 0);
    expect(all, 'the test made requests of every kind').to.be.greaterThan(150);
    for (const outcome of USAGE_OUTCOMES) {
      expect([...expected.values()].some((c) => c[outcome] > 0), `some request came to ${outcome}`).to.equal(true);
    }
    expect(uncounted).to.equal(0);

    const top = await api('GET', '/admin/usage/top?by=served&window=1h');
    expect(top.body.items[0]).to.include({ id: busy.id, served: expected.get(busy.id)!.served });
    const refused = await api('GET', '/admin/usage/top?by=rate_limited&window=1h');
    expect(refused.body.items.map((i: { id: string }) => i.id)).to.deep.equal([small.id]);

    // Once more after a clean restart of the consumer: nothing is applied twice.
    expect(await issuer.stop()).to.equal(0);
    await issuer.start();
    admin = await signInAdmin();
    await waitFor(drained, 10_000, 100);
    await check('after a second restart');
  });
});
