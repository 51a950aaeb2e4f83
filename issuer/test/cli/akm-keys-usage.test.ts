import { expect } from 'chai';
import { jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm keys usage and akm keys top', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  let admin: Record<string, string>;
  let keyId: string;
  before(async () => {
    harness = await startCliHarness();
    admin = { AKM_TOKEN: harness.issuer.admin };
    const res = await fetch(new URL('/admin/keys', harness.issuer.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.issuer.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'carol' }),
    });
    keyId = ((await res.json()) as { id: string }).id;
    const nowS = Math.floor(Date.now() / 1000);
    const hour = nowS - (nowS % 3600);
    // Two hours ago 8 served; this hour 2 served and 3 over the limit (published as a verifier in the issuer's process does).
    await harness.issuer.usagePublisher!.publish({
      v: 1,
      id: 'cli-test:1',
      source: 'cli-test',
      minutes: [
        { at: hour - 2 * 3600, keys: { [keyId]: { served: 8 } } },
        { at: hour, keys: { [keyId]: { served: 2, rate_limited: 3 } } },
      ],
    });
  });
  after(() => harness.destroy());

  it('prints a row per hour with each outcome, a sparkline of the requests, and the totals', async () => {
    const run = await harness.akm(['keys', 'usage', keyId, '--since', '3h'], { env: admin });
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).to.match(/^AT\s+SERVED\s+RATE_LIMITED\s+CREDITS_EXHAUSTED\s+FORBIDDEN\s+REVOKED\s+DISABLED\s+EXPIRED$/);
    const rows = lines.slice(1).filter((l) => /^\d{4}-/.test(l));
    expect(rows, run.stdout).to.have.length(4);
    expect(rows[1]).to.match(/\s8\s+0\s+0\s+0\s+0\s+0\s+0$/);
    expect(rows[3]).to.match(/\s2\s+3\s+0\s+0\s+0\s+0\s+0$/);
    expect(run.stdout, run.stdout).to.include('▁█▁▆  requests per hour');
    expect(run.stdout).to.include('13 requests: served 10, rate_limited 3, credits_exhausted 0, forbidden 0, revoked 0, disabled 0, expired 0');
  });

  it('--json prints the API answer for scripts', async () => {
    const usage = jsonOf<{ granularity: string; totals: Record<string, number>; items: unknown[] }>(
      await harness.akm(['keys', 'usage', keyId, '--since', '3h', '--granularity', 'minute', '--json'], { env: admin }),
    );
    expect(usage.granularity).to.equal('minute');
    expect(usage.items.length).to.be.within(180, 181);
    expect(usage.totals).to.include({ served: 10, rate_limited: 3 });
  });

  it('akm keys top lists the busiest keys', async () => {
    const run = await harness.akm(['keys', 'top', '--by', 'rate_limited'], { env: admin });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')[1]).to.match(new RegExp(`^${keyId}\\s+carol\\s+-\\s+active\\s+10\\s+3\\s`));
  });

  it('a bad --since is a usage error naming the option', async () => {
    const line = oneLineFailure(await harness.akm(['keys', 'usage', keyId, '--since', 'yesterday'], { env: admin }), 2);
    expect(line).to.include('--since');
  });
});
