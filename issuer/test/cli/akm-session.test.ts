import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_ADMIN_PASSWORD } from '../support/issuer-fixture.js';
import { jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm sign-in: login, logout, whoami and admin-token', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  before(async () => {
    harness = await startCliHarness();
  });
  after(async () => harness?.destroy());

  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

  it('after logout the session file is gone and whoami fails with one line', async () => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    const session = join(env.AKM_CONFIG_DIR, 'session.json');
    jsonOf(await harness.akm(['login', 'admin', '--password-stdin', '--json'], { stdin: TEST_ADMIN_PASSWORD, env }));
    expect(existsSync(session)).to.equal(true);

    const logout = await harness.akm(['logout'], { env });
    expect(logout.code, logout.stderr).to.equal(0);
    expect(logout.stdout).to.equal('signed out (this sign-in)\n');
    expect(existsSync(session)).to.equal(false);

    const whoami = await harness.akm(['whoami'], { env });
    expect(oneLineFailure(whoami, 1)).to.match(/^akm: not signed in: run `akm login`/);
  });

  it('logout --json prints a JSON object, even when nobody was signed in', async () => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    expect(jsonOf(await harness.akm(['logout', '--json'], { env }))).to.deep.equal({
      signedOut: true,
      ended: 'nothing to end',
      removed: join(env.AKM_CONFIG_DIR, 'session.json'),
    });
  });

  it('whoami shows a signed-in user with role and the expiry of the sign-in token', async () => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    const login = jsonOf<{ expiresAt: string }>(await harness.akm(['login', 'admin', '--password-stdin', '--json'], { stdin: TEST_ADMIN_PASSWORD, env }));
    const me = jsonOf(await harness.akm(['whoami', '--json'], { env }));
    expect(me).to.include({ username: 'admin', role: 'admin', status: 'active', tokenExpiresAt: login.expiresAt });
    const table = await harness.akm(['whoami'], { env });
    expect(table.stdout).to.match(/^username\s+admin$/m).and.to.match(/^tokenExpiresAt\s+\S+Z$/m);
  });

  it('admin-token --ttl 60 mints an admin token that lives 60 seconds', async () => {
    const run = await harness.akm(['admin-token', '--ttl', '60']);
    expect(run.code, run.stderr).to.equal(0);
    const claims = decodeJwt(run.stdout.trim());
    expect(claims.exp! - claims.iat!, JSON.stringify(claims)).to.equal(60);
    expect(claims).to.include({ role: 'admin', sub: 'local-admin@akm' });
  });

  it('admin-token lives one hour at most: --ttl 3600 is taken, and a longer AKM_SESSION_TTL_S is capped to it', async () => {
    const hour = await harness.akm(['admin-token', '--ttl', '3600']);
    expect(hour.code, hour.stderr).to.equal(0);
    const atMost = decodeJwt(hour.stdout.trim());
    expect(atMost.exp! - atMost.iat!).to.equal(3600);

    const byDefault = await harness.akm(['admin-token'], { env: { AKM_SESSION_TTL_S: '86400' } });
    expect(byDefault.code, byDefault.stderr).to.equal(0);
    const capped = decodeJwt(byDefault.stdout.trim());
    expect(capped.exp! - capped.iat!, 'the default follows AKM_SESSION_TTL_S only up to one hour').to.equal(3600);
  });

  it('admin-token --json prints the token and its expiry as a JSON object', async () => {
    const out = jsonOf<{ token: string; expiresAt: string; savedTo?: string }>(await harness.akm(['admin-token', '--ttl', '120', '--json']));
    const claims = decodeJwt(out.token);
    expect(out.expiresAt).to.equal(iso(claims.exp!));
    expect(claims.exp! - claims.iat!).to.equal(120);
    expect(out).to.not.have.property('savedTo');
  });

  it('admin-token --save keeps the token in a 0600 file that later commands use, and whoami describes it', async () => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    const session = join(env.AKM_CONFIG_DIR, 'session.json');
    const saved = await harness.akm(['admin-token', '--save', '--ttl', '300'], { env });
    expect(saved.code, saved.stderr).to.equal(0);
    expect(saved.stderr).to.equal(`saved to ${session}\n`);
    expect(statSync(session).mode & 0o777).to.equal(0o600);
    const claims = decodeJwt(saved.stdout.trim());

    // No AKM_TOKEN: the saved token is what signs these in.
    expect(jsonOf<unknown[]>(await harness.akm(['users', 'list', '--json'], { env }))).to.be.an('array').that.is.not.empty;
    const me = jsonOf(await harness.akm(['whoami', '--json'], { env }));
    expect(me).to.include({ subject: 'local-admin@akm', role: 'admin', tokenExpiresAt: iso(claims.exp!) });
    expect(me.note).to.match(/akm admin-token/);

    const table = await harness.akm(['whoami'], { env });
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^subject\s+local-admin@akm$/m).and.to.match(/^role\s+admin$/m);
  });

  it('admin-token --save --json says where it saved the token', async () => {
    const env = { AKM_CONFIG_DIR: harness.freshConfig() };
    const out = jsonOf<{ token: string; savedTo: string }>(await harness.akm(['admin-token', '--save', '--json'], { env }));
    expect(out.savedTo).to.equal(join(env.AKM_CONFIG_DIR, 'session.json'));
    expect(jsonOf(await harness.akm(['whoami', '--json'], { env })).subject).to.equal('local-admin@akm');
  });

  it('whoami with a token the issuer refuses fails with one line', async () => {
    const run = await harness.akm(['whoami'], { env: { AKM_TOKEN: 'not-a-token' } });
    expect(oneLineFailure(run, 1)).to.equal('akm: invalid_token: not a valid sign-in token');
  });
});
