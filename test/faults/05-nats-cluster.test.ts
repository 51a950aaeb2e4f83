/**
 * Case 5: a three-node JetStream cluster on loopback, the key stream with three replicas, and
 * the node that leads the stream killed while revocations happen. No revocation is lost and the
 * verifiers keep following — one of them was only ever told the killed node's address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, KEY_STREAM } from '@akm/common';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNatsCluster, waitFor, type NatsCluster } from '../support/processes.js';
import { call, inBatches, price, shown, signInAdmin, untilRevokedEverywhere, type IssuerAdmin, type MintedKey } from './support/akm-client.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

/** The stream's cluster view: its leader's server name and how many replicas are current. */
async function streamCluster(url: string): Promise<{ leader?: string; current: number; replicas: number }> {
  const nc = await connectNats({ url, name: 'case5-check', timeoutMs: 2000 });
  try {
    const info = await (await jetstreamManager(nc, { timeout: 2000 })).streams.info(KEY_STREAM);
    const peers = info.cluster?.replicas ?? [];
    return { leader: info.cluster?.leader, current: peers.filter((p) => p.current && !p.offline).length, replicas: info.config.num_replicas };
  } finally {
    await nc.close();
  }
}

describe('case 5: a three-node NATS cluster loses the stream leader during revocations', function () {
  this.timeout(120_000);
  let cluster: NatsCluster;
  let issuer: AkmProcess;
  let verifiers: AkmProcess[] = [];
  let admin: IssuerAdmin;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case5-'));

  before(async () => {
    cluster = await startNatsCluster(3);
    issuer = await startIssuerProcess({
      logDir: LOG_DIR, name: 'case5-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: cluster.url, streamReplicas: 3,
    });
    admin = await signInAdmin(issuer.url);
    // The issuer creates the stream once the cluster has elected its JetStream meta leader.
    await waitFor(async () => {
      const s = await streamCluster(cluster.url).catch(() => undefined);
      return s?.replicas === 3 && s.current === 2 && !!s.leader;
    }, 30_000, 200);
  });
  after(async () => {
    await Promise.all([issuer, ...verifiers].map((p) => p?.kill()));
    await cluster?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no revocation and both verifiers keep following after the leader node is killed', async () => {
    const { leader } = await streamCluster(cluster.url);
    const victim = cluster.nodes.find((n) => n.name === leader)!;
    expect(victim, `stream leader ${leader}`).to.not.equal(undefined);
    verifiers = await Promise.all([
      startVerifierProcess({ logDir: LOG_DIR, name: 'case5-verifier-only-knows-leader', issuerUrl: issuer.url, natsUrl: victim.url }),
      startVerifierProcess({ logDir: LOG_DIR, name: 'case5-verifier-knows-all', issuerUrl: issuer.url, natsUrl: cluster.url }),
    ]);
    await waitFor(async () => (await Promise.all(verifiers.map((v) => call(v.url, '/readyz')))).every((r) => r.status === 200), 20_000, 50);

    const keys = await inBatches([...Array(150).keys()], 15, () => admin.mint());
    const toRevoke = keys.slice(0, 120);
    const revoked: MintedKey[] = [];
    const revoker = (async () => {
      for (const k of toRevoke) {
        await admin.revoke(k.id);
        revoked.push(k);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await waitFor(() => revoked.length >= 40, 30_000, 5);
    await victim.kill();
    const killedAt = Date.now();
    const revokedAtKill = revoked.length;
    await revoker;
    const lastRevokedAt = Date.now();

    await waitFor(async () => (await admin.readyz()).body.outboxBacklog === 0, 30_000, 20);
    const publishedAt = Date.now();
    await untilRevokedEverywhere(verifiers.map((v) => v.url), revoked, 30_000);
    const convergedAt = Date.now();
    // The surviving nodes may still be settling their JetStream meta leader: ask until they answer.
    let after: Awaited<ReturnType<typeof streamCluster>> | undefined;
    const survivors = cluster.nodes.filter((n) => n !== victim).map((n) => n.url).join(',');
    await waitFor(async () => !!(after = await streamCluster(survivors).catch(() => undefined))?.leader, 15_000, 200).catch(() => undefined);
    expect(after?.leader, 'a new stream leader').to.be.a('string').and.not.equal(victim.name);

    // Still following: a revocation made now reaches both within a second.
    const fresh = await admin.mint();
    await waitFor(async () => (await Promise.all(verifiers.map((v) => price(v.url, fresh.key)))).every((r) => r.status === 200), 5000, 20);
    await admin.revoke(fresh.id);
    const t0 = Date.now();
    await untilRevokedEverywhere(verifiers.map((v) => v.url), [fresh], 5000);
    const followMs = Date.now() - t0;
    expect(followMs, 'a revocation after the failover').to.be.below(1000);
    for (const v of verifiers) {
      const untouched = await inBatches(keys.slice(120), 10, (k) => price(v.url, k.key));
      expect(untouched.filter((a) => a.status !== 200).map(shown), `${v.name}: keys never revoked`).to.deep.equal([]);
      const ready = await call(v.url, '/readyz');
      expect(ready.status, `${v.name}: ${shown(ready)}`).to.equal(200);
    }

    reportFigure({ case: 5, name: 'revocations before / after the leader node was killed', value: `${revokedAtKill} / ${revoked.length - revokedAtKill}` });
    reportFigure({ case: 5, name: 'all 120 refused by both verifiers, after the kill', value: convergedAt - killedAt, unit: 'ms' });
    reportFigure({ case: 5, name: 'issuer outbox empty again, after the kill', value: publishedAt - killedAt, unit: 'ms' });
    reportFigure({ case: 5, name: 'all 120 refused by both verifiers, after the last revocation', value: convergedAt - lastRevokedAt, unit: 'ms' });
    reportFigure({ case: 5, name: 'a revocation after the failover, refused by both', value: followMs, unit: 'ms' });
  });
});
