/**
 * Case 1: NATS stopped while keys are revoked at the issuer. The issuer keeps answering (the
 * outbox holds the events); once NATS is back every revocation reaches every verifier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { call, eventBusState, inBatches, notYetRevoked, price, shown, signInAdmin, type IssuerAdmin, type MintedKey } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

const STALENESS_BOUND_S = 3;

describe('case 1: NATS stopped while keys are revoked at the issuer', function () {
  this.timeout(120_000);
  let nats: TestServer;
  let issuer: AkmProcess;
  let patient: AkmProcess;
  let strict: AkmProcess;
  let admin: IssuerAdmin;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case1-'));

  before(async () => {
    nats = await startNats();
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case1-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    const common = { logDir: LOG_DIR, issuerUrl: issuer.url, natsUrl: nats.url };
    [patient, strict] = await Promise.all([
      startVerifierProcess({ ...common, name: 'case1-verifier-default-bound' }),
      startVerifierProcess({ ...common, name: 'case1-verifier-3s-bound', env: { VERIFIER_MAX_STALENESS_S: String(STALENESS_BOUND_S) } }),
    ]);
    admin = await signInAdmin(issuer.url);
    await waitFor(async () => (await call(patient.url, '/readyz')).status === 200 && (await call(strict.url, '/readyz')).status === 200, 20_000, 50);
  });
  after(async () => {
    await Promise.all([issuer, patient, strict].map((p) => p?.kill()));
    await nats?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the issuer answering, fails closed past the staleness bound, and delivers every revocation to every verifier once NATS is back', async () => {
    const before = await inBatches([...Array(40).keys()], 10, () => admin.mint());
    for (const v of [patient, strict]) {
      const res = await price(v.url, before[0]!.key);
      expect(res.status, shown(res)).to.equal(200);
    }

    await nats.stop();
    const downAt = Date.now();
    await waitFor(async () => eventBusState(await admin.readyz()) === 'disconnected', 10_000, 50);

    // While NATS is down: revoke half the keys, mint new ones and revoke some of those too.
    const latencies: number[] = [];
    const timed = async <T>(work: () => Promise<T>) => {
      const t0 = Date.now();
      const out = await work();
      latencies.push(Date.now() - t0);
      return out;
    };
    const revokedDuring = before.slice(0, 20);
    await inBatches(revokedDuring, 5, (k) => timed(() => admin.revoke(k.id)));
    const mintedDuring = await inBatches([...Array(10).keys()], 5, () => timed(() => admin.mint()));
    const mintedRevoked = mintedDuring.slice(0, 5);
    await inBatches(mintedRevoked, 5, (k) => timed(() => admin.revoke(k.id)));
    const ready = await admin.readyz();
    expect(ready.status, shown(ready)).to.equal(200);
    expect(eventBusState(ready), shown(ready)).to.equal('disconnected');
    expect(ready.body.outboxBacklog, shown(ready)).to.equal(35);

    // The default-bound verifier keeps serving what it knows; the 3 s-bound one fails closed.
    const kept = await price(patient.url, before[30]!.key);
    expect(kept.status, shown(kept)).to.equal(200);
    await waitFor(() => Date.now() - downAt > (STALENESS_BOUND_S + 1) * 1000, 10_000, 100);
    for (const key of [before[30]!, revokedDuring[0]!]) {
      const res = await price(strict.url, key.key);
      expect(res.status, shown(res)).to.equal(503);
      expect(res.body.code, shown(res)).to.equal('unavailable');
    }
    const staleReady = await call(strict.url, '/readyz');
    expect(staleReady.status, shown(staleReady)).to.equal(503);
    const windowOpen = (await price(patient.url, revokedDuring[0]!.key)).status === 200;

    await nats.start();
    const backAt = Date.now();
    const outageMs = backAt - downAt;
    const revoked: MintedKey[] = [...revokedDuring, ...mintedRevoked];
    let outboxDrainedMs = -1;
    await waitFor(async () => {
      const r = await admin.readyz();
      if (outboxDrainedMs < 0 && r.body.outboxBacklog === 0) outboxDrainedMs = Date.now() - backAt;
      if (outboxDrainedMs < 0) return false;
      const left = await Promise.all([patient, strict].map((v) => notYetRevoked(v.url, revoked)));
      return left.every((l) => l.length === 0);
    }, 30_000, 50);
    const convergedMs = Date.now() - backAt;
    await waitFor(async () => (await call(strict.url, '/readyz')).status === 200, 10_000, 50);
    const strictReadyMs = Date.now() - backAt;

    // Nothing else changed: the keys left alone still work, those minted during the outage too.
    for (const v of [patient, strict]) {
      for (const key of [before[39]!, mintedDuring[9]!]) {
        const res = await price(v.url, key.key);
        expect(res.status, `${v.name}: ${shown(res)}`).to.equal(200);
      }
      const left = await notYetRevoked(v.url, revoked);
      expect(left.map((l) => shown(l.answer)), v.name).to.deep.equal([]);
    }

    reportFigure({ case: 1, name: 'NATS outage', value: outageMs, unit: 'ms' });
    reportFigure({ case: 1, name: 'issuer answers during the outage (35 changes), slowest', value: Math.max(...latencies), unit: 'ms' });
    reportFigure({ case: 1, name: 'outbox drained after NATS came back', value: outboxDrainedMs, unit: 'ms' });
    reportFigure({ case: 1, name: 'all 25 revocations refused by both verifiers after NATS came back', value: convergedMs, unit: 'ms' });
    reportFigure({ case: 1, name: '3 s-bound verifier ready again after NATS came back', value: strictReadyMs, unit: 'ms' });
    reportFigure({ case: 1, name: 'default-bound verifier still accepted a key revoked during the outage', value: windowOpen ? 'yes (within its 300 s bound)' : 'no' });
  });
});
