/**
 * Case 2: the issuer killed with SIGKILL after committing changes and before publishing them.
 * On restart the outbox publishes them and the verifiers converge.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, waitFor, type TestServer } from '../support/processes.js';
import { call, eventBusState, inBatches, notYetRevoked, price, shown, signInAdmin, type IssuerAdmin, type MintedKey } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

describe('case 2: the issuer killed with SIGKILL between commit and publish', function () {
  this.timeout(120_000);
  let nats: TestServer;
  let issuer: AkmProcess;
  let verifiers: AkmProcess[];
  let admin: IssuerAdmin;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case2-'));

  before(async () => {
    nats = await startNats();
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case2-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    verifiers = await Promise.all(
      [1, 2].map((i) => startVerifierProcess({ logDir: LOG_DIR, name: `case2-verifier-${i}`, issuerUrl: issuer.url, natsUrl: nats.url })),
    );
    admin = await signInAdmin(issuer.url);
    await waitFor(async () => (await Promise.all(verifiers.map((v) => call(v.url, '/readyz')))).every((r) => r.status === 200), 20_000, 50);
  });
  after(async () => {
    await Promise.all([issuer, ...(verifiers ?? [])].map((p) => p?.kill()));
    await nats?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const everyVerifierRefuses = async (keys: MintedKey[]) =>
    (await Promise.all(verifiers.map((v) => notYetRevoked(v.url, keys)))).every((left) => left.length === 0);

  it('publishes the committed but unsent changes on restart, and every verifier converges', async () => {
    const keys = await inBatches([...Array(30).keys()], 10, () => admin.mint());
    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 10_000, 50);

    // NATS away makes "committed, not yet published" certain rather than a race.
    await nats.stop();
    await waitFor(async () => eventBusState(await admin.readyz()) === 'disconnected', 10_000, 50);
    const revoked = keys.slice(0, 20);
    await inBatches(revoked, 5, (k) => admin.revoke(k.id));
    const ready = await admin.readyz();
    expect(ready.body.outboxBacklog, shown(ready)).to.equal(20);

    await issuer.kill('SIGKILL');
    await nats.start();
    // The verifiers are back in touch, but the events died with nobody to send them: keys still pass.
    await waitFor(async () => (await Promise.all(verifiers.map((v) => call(v.url, '/readyz')))).every((r) => r.status === 200), 10_000, 50);
    const stillAccepted = await price(verifiers[0]!.url, revoked[0]!.key);
    expect(stillAccepted.status, shown(stillAccepted)).to.equal(200);

    const restartAt = Date.now();
    await issuer.start();
    const listeningMs = Date.now() - restartAt;
    await waitFor(() => everyVerifierRefuses(revoked), 20_000, 50);
    const convergedMs = Date.now() - restartAt;
    for (const v of verifiers) {
      const res = await price(v.url, keys[25]!.key);
      expect(res.status, `${v.name}: ${shown(res)}`).to.equal(200);
    }
    const after = await admin.readyz();
    expect(after.body.outboxBacklog, shown(after)).to.equal(0);

    reportFigure({ case: 2, name: 'issuer restart until it answers', value: listeningMs, unit: 'ms' });
    reportFigure({ case: 2, name: '20 revocations committed before SIGKILL refused by both verifiers, from restart', value: convergedMs, unit: 'ms' });
  });

  it('after a SIGKILL in the middle of a burst of revocations, what the issuer says and what the verifiers enforce agree, key by key', async () => {
    const keys = await inBatches([...Array(60).keys()], 10, () => admin.mint());
    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 10_000, 50);

    // Fire every revocation at once and kill the issuer as soon as the first third were answered:
    // some are committed and published, some committed only, some never reached the database.
    const answered: MintedKey[] = [];
    let killed: Promise<void> | undefined;
    await Promise.all(
      keys.map(async (k) => {
        const res = await call(issuer.url, `/admin/keys/${k.id}`, { method: 'DELETE', token: admin.token }).catch(() => undefined);
        if (res?.status === 204) answered.push(k);
        if (answered.length >= 20 && !killed) killed = issuer.kill('SIGKILL');
      }),
    );
    await killed;
    expect(answered.length, 'revocations answered 204 before the kill').to.be.at.least(20);

    const restartAt = Date.now();
    await issuer.start();
    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 20_000, 50);
    const statuses = await inBatches(keys, 10, async (k) => {
      const res = await call(issuer.url, `/admin/keys/${k.id}`, { token: admin.token });
      expect(res.status, shown(res)).to.equal(200);
      return { key: k, status: String(res.body.status) };
    });
    const revokedAtIssuer = statuses.filter((s) => s.status === 'revoked').map((s) => s.key);
    const activeAtIssuer = statuses.filter((s) => s.status === 'active').map((s) => s.key);
    expect(revokedAtIssuer.length + activeAtIssuer.length).to.equal(keys.length);
    // Every revocation the issuer confirmed survived the kill.
    expect(answered.filter((k) => !revokedAtIssuer.includes(k)), 'confirmed revocations lost').to.deep.equal([]);

    await waitFor(() => everyVerifierRefuses(revokedAtIssuer), 20_000, 50);
    const convergedMs = Date.now() - restartAt;
    for (const v of verifiers) {
      const answers = await inBatches(activeAtIssuer, 10, (k) => price(v.url, k.key));
      expect(answers.filter((a) => a.status !== 200).map(shown), `${v.name}: keys active at the issuer`).to.deep.equal([]);
    }

    reportFigure({ case: 2, name: 'burst: revocations confirmed before SIGKILL / committed in all / of 60', value: `${answered.length} / ${revokedAtIssuer.length} / 60` });
    reportFigure({ case: 2, name: 'burst: verifiers agree with the issuer on every key, from restart', value: convergedMs, unit: 'ms' });
  });
});
