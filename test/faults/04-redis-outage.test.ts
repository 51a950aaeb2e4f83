/**
 * Case 4: Redis stopped and started under load. No 5xx; while Redis is down each verifier
 * enforces a key's limit on its own, and once it is back the limit is shared again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startIssuerProcess, startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startNats, startRedis, waitFor, type TestServer } from '../support/processes.js';
import { call, price, shown, signInAdmin, type Answer, type IssuerAdmin } from './support/akm-client.js';
import { startBackgroundLoad } from './support/background-load.js';
import { ADMIN_PASSWORD, LOG_DIR, reportFigure, RUN_DIR } from './support/run.js';

const LIMIT = 10;

describe('case 4: Redis stopped and started under load', function () {
  this.timeout(120_000);
  let nats: TestServer;
  let redis: TestServer;
  let issuer: AkmProcess;
  let verifiers: AkmProcess[];
  let admin: IssuerAdmin;
  const dataDir = mkdtempSync(join(RUN_DIR, 'case4-'));

  before(async () => {
    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    issuer = await startIssuerProcess({ logDir: LOG_DIR, name: 'case4-issuer', dataDir, adminPassword: ADMIN_PASSWORD, natsUrl: nats.url });
    verifiers = await Promise.all(
      [1, 2].map((i) =>
        startVerifierProcess({ logDir: LOG_DIR, name: `case4-verifier-${i}`, issuerUrl: issuer.url, natsUrl: nats.url, redisUrl: redis.url }),
      ),
    );
    admin = await signInAdmin(issuer.url);
    await waitFor(async () => (await Promise.all(verifiers.map((v) => call(v.url, '/readyz')))).every((r) => r.status === 200), 20_000, 50);
  });
  after(async () => {
    await Promise.all([issuer, ...(verifiers ?? [])].map((p) => p?.kill()));
    await Promise.all([nats?.destroy(), redis?.destroy()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends `perVerifier` requests to each verifier with a fresh key limited to {@link LIMIT}. */
  async function spend(perVerifier: number): Promise<{ served: number[]; refused: Answer[] }> {
    const { key } = await admin.mint({ rateLimit: LIMIT });
    const served = verifiers.map(() => 0);
    const refused: Answer[] = [];
    for (let i = 0; i < perVerifier; i++) {
      for (const [n, v] of verifiers.entries()) {
        const res = await price(v.url, key);
        if (res.status === 200) served[n]!++;
        else refused.push(res);
      }
    }
    return { served, refused };
  }
  const fallbacks = async (v: AkmProcess) => {
    const text = (await call(v.url, '/metrics')).text;
    return Number(/^akm_verifier_redis_fallbacks_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
  };
  const onlyRateLimited = (refused: Answer[]) => refused.filter((r) => !(r.status === 429 && r.body.code === 'rate_limited')).map(shown);

  it('never answers 5xx, limits per instance while Redis is down, and shares the limit again once it is back', async () => {
    const loadKey = await admin.mint({ rateLimit: 1_000_000 });
    const load = startBackgroundLoad(verifiers.map((v) => v.url), loadKey.key, 6, 60_000);

    const up = await spend(LIMIT);
    expect(up.served.reduce((a, b) => a + b), `served with Redis up, per verifier ${up.served}`).to.equal(LIMIT);
    expect(onlyRateLimited(up.refused)).to.deep.equal([]);

    await redis.stop();
    const downAt = Date.now();
    const down = await spend(LIMIT + 5);
    expect(down.served, 'served per verifier with Redis down').to.deep.equal([LIMIT, LIMIT]);
    expect(onlyRateLimited(down.refused)).to.deep.equal([]);
    await waitFor(() => Date.now() - downAt > 3000, 5000, 100); // keep the load running on memory counting for a while
    const downMs = Date.now() - downAt;

    await redis.start();
    const backAt = Date.now();
    // Back in Redis once a while of load adds no fallback on either verifier.
    await waitFor(async () => {
      const before = await Promise.all(verifiers.map(fallbacks));
      await new Promise((r) => setTimeout(r, 300));
      const after = await Promise.all(verifiers.map(fallbacks));
      return after.every((n, i) => n === before[i]);
    }, 20_000, 50);
    const sharedAgainMs = Date.now() - backAt;
    const back = await spend(LIMIT);
    expect(back.served.reduce((a, b) => a + b), `served with Redis back, per verifier ${back.served}`).to.equal(LIMIT);
    expect(onlyRateLimited(back.refused)).to.deep.equal([]);

    const counts = await load.stop();
    const notOk = Object.entries(counts).filter(([status]) => status !== '200');
    expect(notOk, `background load answers: ${JSON.stringify(counts)}`).to.deep.equal([]);
    expect(counts['200'], 'background load ran').to.be.above(100);

    reportFigure({ case: 4, name: 'background load answers (all 200, no 5xx)', value: JSON.stringify(counts) });
    reportFigure({ case: 4, name: `served of ${LIMIT}/min per key: Redis up / down (per verifier) / back`, value: `${up.served.join('+')} / ${down.served.join('+')} / ${back.served.join('+')}` });
    reportFigure({ case: 4, name: 'Redis outage', value: downMs, unit: 'ms' });
    reportFigure({ case: 4, name: 'counting in Redis again after it came back', value: sharedAgainMs, unit: 'ms' });
  });
});
