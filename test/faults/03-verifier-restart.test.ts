/**
 * Case 3: a verifier killed and restarted while revocations happen. It is not ready until it has
 * caught up with the key stream, and then it refuses every revoked key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { call, inBatches, notYetRevoked, price, shown, signInAdmin, type Answer, type IssuerAdmin, type MintedKey } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

describe('case 3: a verifier killed and restarted while revocations happen', function () {
  this.timeout(120_000);
  let nats: TestServer;
  let issuer: AkmProcess;
  let verifier: AkmProcess;
  let admin: IssuerAdmin;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case3-'));

  before(async () => {
    nats = await startNats();
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case3-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    verifier = await startVerifierProcess({ logDir: LOG_DIR, name: 'case3-verifier', issuerUrl: issuer.url, natsUrl: nats.url });
    admin = await signInAdmin(issuer.url);
    await waitFor(async () => (await call(verifier.url, '/readyz')).status === 200, 20_000, 50);
  });
  after(async () => {
    await Promise.all([issuer, verifier].map((p) => p?.kill()));
    await nats?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 until it has replayed the stream, then refuses every key revoked before and during its restart', async () => {
    const keys = await inBatches([...Array(400).keys()], 20, () => admin.mint());
    const toRevoke = keys.slice(0, 300);
    const untouched = keys.slice(300);

    // A revoker that keeps going through the kill and the restart.
    const revoked: MintedKey[] = [];
    const revoker = (async () => {
      for (const k of toRevoke) {
        await admin.revoke(k.id);
        revoked.push(k);
        await new Promise((r) => setTimeout(r, 10)); // paced to last through the kill and the restart
      }
    })();
    await waitFor(() => revoked.length >= 100, 30_000, 10);

    await verifier.kill('SIGKILL');
    const revokedAtKill = revoked.length;
    // Revocations the stream surely holds before the restart: answered before an empty outbox was seen.
    let published: MintedKey[] = [];
    await waitFor(async () => {
      const count = revoked.length;
      const r = await admin.readyz();
      if (r.body.outboxBacklog !== 0) return false;
      published = revoked.slice(0, count);
      return true;
    }, 10_000, 5);
    const probe = published[published.length - 1]!;

    // Ask from the moment it listens (connection refused until then), while start() waits too.
    const restartAt = Date.now();
    const started = verifier.start();
    const answers: Answer[] = [];
    await waitFor(async () => {
      const res = await price(verifier.url, probe.key).catch(() => undefined);
      if (res) answers.push(res);
      return res !== undefined && res.status !== 503;
    }, 30_000, 1);
    await started;
    const readyMs = Date.now() - restartAt;
    const revokedWhileDown = revoked.length - revokedAtKill;
    const unready = answers.slice(0, -1);
    expect(unready.filter((a) => a.body.code !== 'unavailable').map(shown), 'answers before it was ready').to.deep.equal([]);
    const first = answers[answers.length - 1]!;
    expect(first.status, `its first answer that is not 503: ${shown(first)}`).to.equal(401);
    expect(first.body.code, shown(first)).to.equal('key_revoked');
    const readyz = await call(verifier.url, '/readyz');
    expect(readyz.status, shown(readyz)).to.equal(200);

    // Every revocation it could have replayed is refused at once, no waiting.
    const leftAtOnce = await notYetRevoked(verifier.url, published);
    expect(leftAtOnce.map((l) => shown(l.answer)), 'published before the restart, yet accepted').to.deep.equal([]);

    // The revocations made while it was down, replaying, and since, follow live.
    expect(revokedWhileDown, 'revocations made while it was down or replaying').to.be.above(0);
    await revoker;
    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 10_000, 20);
    const settledAt = Date.now();
    await waitFor(async () => (await notYetRevoked(verifier.url, revoked)).length === 0, 10_000, 20);
    const liveMs = Date.now() - settledAt;
    const accepted = await inBatches(untouched, 20, (k) => price(verifier.url, k.key));
    expect(accepted.filter((a) => a.status !== 200).map(shown), 'keys never revoked').to.deep.equal([]);

    reportFigure({ case: 3, name: 'restarted verifier: from spawn to its first answer other than 503', value: readyMs, unit: 'ms' });
    reportFigure({ case: 3, name: 'answers 503 unavailable while replaying (probes at ~1 ms)', value: unready.length });
    reportFigure({ case: 3, name: 'revocations published before the restart / made while it was down or replaying / in all', value: `${published.length} / ${revokedWhileDown} / ${revoked.length}` });
    reportFigure({ case: 3, name: 'all revocations refused after the outbox was empty', value: liveMs, unit: 'ms' });
  });
});
