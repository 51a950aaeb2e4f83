import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm users show, update and delete', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  let admin: Record<string, string>;
  before(async () => {
    harness = await startCliHarness();
    admin = { AKM_TOKEN: harness.issuer.admin };
  });
  after(() => harness.destroy());

  const name = () => `u${randomUUID().slice(0, 8)}`;
  const createUser = async (username: string, password: string) =>
    jsonOf(await harness.akm(['users', 'create', username, '--password-stdin', '--json'], { stdin: password, env: admin }));
  const login = (username: string, password: string) =>
    harness.akm(['login', username, '--password-stdin', '--json'], { stdin: password, env: { AKM_CONFIG_DIR: harness.freshConfig() } });

  it('users show prints one user as a table and as JSON', async () => {
    const carol = name();
    await createUser(carol, 'carols long password');
    const table = await harness.akm(['users', 'show', carol], { env: admin });
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(new RegExp(`^username\\s+${carol}$`, 'm')).and.to.match(/^role\s+user$/m);
    expect(jsonOf(await harness.akm(['users', 'show', carol, '--json'], { env: admin }))).to.include({ username: carol, role: 'user', status: 'active' });
  });

  it('users show of an unknown user fails with one line', async () => {
    const run = await harness.akm(['users', 'show', 'nobody-here'], { env: admin });
    expect(oneLineFailure(run, 1)).to.equal('akm: not_found: no user nobody-here');
  });

  it('users update --role admin makes the user an admin, as users show then reports', async () => {
    const dave = name();
    await createUser(dave, 'daves long password');
    const updated = jsonOf(await harness.akm(['users', 'update', dave, '--role', 'admin', '--json'], { env: admin }));
    expect(updated).to.include({ username: dave, role: 'admin' });
    expect(jsonOf(await harness.akm(['users', 'show', dave, '--json'], { env: admin })).role).to.equal('admin');
    expect(jsonOf(await login(dave, 'daves long password')).role).to.equal('admin');
  });

  it('users update --password-stdin replaces the password: the old one is refused, the new one signs in', async () => {
    const erin = name();
    await createUser(erin, 'erins first password');
    jsonOf(await harness.akm(['users', 'update', erin, '--password-stdin', '--json'], { stdin: 'erins second password\n', env: admin }));
    expect(oneLineFailure(await login(erin, 'erins first password'), 1)).to.equal('akm: invalid_credentials: wrong user name or password');
    expect(jsonOf(await login(erin, 'erins second password'))).to.include({ username: erin, role: 'user' });
  });

  it('users update with nothing to change fails with one line', async () => {
    const run = await harness.akm(['users', 'update', 'whoever'], { env: admin });
    expect(oneLineFailure(run, 1)).to.equal('akm: give --role, --password-stdin and/or --key-policy');
  });

  it('users delete --json prints a JSON object, and the user is gone', async () => {
    const fred = name();
    await createUser(fred, 'freds long password');
    expect(jsonOf(await harness.akm(['users', 'delete', fred, '--json'], { env: admin }))).to.deep.equal({ username: fred, deleted: true });
    expect(oneLineFailure(await harness.akm(['users', 'show', fred], { env: admin }), 1)).to.equal(`akm: not_found: no user ${fred}`);
  });
});
