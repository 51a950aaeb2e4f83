import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { jsonOf, startCliHarness, type CliHarness } from './cli-harness.js';

interface Key {
  id: string;
  sub: string;
  status: string;
}

describe('akm keys list --all and --status', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  let admin: Record<string, string>;
  before(async () => {
    harness = await startCliHarness();
    admin = { AKM_TOKEN: harness.issuer.admin };
  });
  after(() => harness.destroy());

  /** Issues `count` keys for `sub` over the REST API (the CLI is what is under test, not this). */
  async function issueKeys(sub: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(new URL('/admin/keys', harness.issuer.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.issuer.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub, name: `k${i}` }),
      });
      const body = (await res.json()) as { id: string };
      expect(res.status, JSON.stringify(body)).to.equal(201);
      ids.push(body.id);
    }
    return ids;
  }

  const list = async (args: string[]) => jsonOf<Key[]>(await harness.akm(['keys', 'list', ...args, '--json'], { env: admin }));

  it('--all follows the cursor through every page; without it, one page', async () => {
    const sub = `paged-${randomUUID()}`;
    const ids = await issueKeys(sub, 5);

    const firstPage = await list(['--sub', sub, '--limit', '2']);
    expect(firstPage.map((k) => k.id)).to.have.length(2);

    const all = await list(['--sub', sub, '--limit', '2', '--all']);
    expect(all.map((k) => k.id), JSON.stringify(all)).to.have.members(ids);
    expect(all.every((k) => k.sub === sub)).to.equal(true);
  });

  it('--status lists only keys in that state', async () => {
    const sub = `status-${randomUUID()}`;
    const [disabled, revoked, ...active] = await issueKeys(sub, 4);
    expect((await harness.akm(['keys', 'disable', disabled!], { env: admin })).code).to.equal(0);
    expect((await harness.akm(['keys', 'revoke', revoked!], { env: admin })).code).to.equal(0);

    expect((await list(['--sub', sub, '--status', 'disabled'])).map((k) => k.id)).to.deep.equal([disabled]);
    expect((await list(['--sub', sub, '--status', 'revoked'])).map((k) => k.id)).to.deep.equal([revoked]);
    const activeKeys = await list(['--sub', sub, '--status', 'active', '--limit', '1', '--all']);
    expect(activeKeys.map((k) => k.id)).to.have.members(active);
    expect(activeKeys.every((k) => k.status === 'active')).to.equal(true);
  });

  it('prints a table with a row per key across pages', async () => {
    const sub = `table-${randomUUID()}`;
    const ids = await issueKeys(sub, 3);
    const run = await harness.akm(['keys', 'list', '--sub', sub, '--limit', '1', '--all'], { env: admin });
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^ID\s+SUB\s+ROLE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).to.have.members(ids);
  });
});
