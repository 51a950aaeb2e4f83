import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadUrl, jsonOf, oneLineFailure, startCliHarness, type CliHarness } from './cli-harness.js';

describe('akm CLI errors and --url', function () {
  this.timeout(60_000);
  let harness: CliHarness;
  let dead: string;
  before(async () => {
    harness = await startCliHarness();
    dead = await deadUrl();
  });
  after(async () => harness?.destroy());

  const usageErrors: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['bogus'], /^akm: unknown command 'bogus'.* \(see akm --help\)$/],
    ['an unknown subcommand', ['keys', 'bogus'], /^akm: unknown command 'bogus' \(see akm keys --help\)$/],
    ['an unknown option', ['keys', 'list', '--bogus'], /^akm: unknown option '--bogus' \(see akm keys list --help\)$/],
    ['an unknown global option', ['--bogus', 'whoami'], /^akm: unknown option '--bogus' \(see akm/],
    ['a missing argument', ['keys', 'show'], /^akm: missing required argument 'id' \(see akm keys show --help\)$/],
    ['a missing required option', ['keys', 'create'], /^akm: required option '--sub <owner>' not specified \(see akm keys create --help\)$/],
    ['an option without its value', ['keys', 'create', '--sub'], /^akm: option '--sub <owner>' argument missing \(see akm keys create --help\)$/],
    ['too many arguments', ['users', 'show', 'a', 'b'], /^akm: too many arguments for 'show'.* \(see akm users show --help\)$/],
    ['a value outside the choices', ['keys', 'list', '--status', 'gone'], /^akm: option '--status <status>' argument 'gone' is invalid\..*active.* \(see akm keys list --help\)$/],
    ['a bad role', ['users', 'create', 'x', '--role', 'root'], /^akm: option '--role <role>' argument 'root' is invalid\..* \(see akm users create --help\)$/],
    ['a bad number', ['admin-token', '--ttl', '0'], /^akm: option '--ttl <seconds>' argument '0' is invalid\. It must be a positive whole number\. \(see akm admin-token --help\)$/],
    // An admin token from the data directory names no user, so nothing revokes it: one hour at most.
    ['an admin token lifetime over one hour', ['admin-token', '--ttl', '3601'], /^akm: option '--ttl <seconds>' argument '3601' is invalid\. It must be at most 3600\. \(see akm admin-token --help\)$/],
    ['a three-year admin token', ['admin-token', '--ttl', '99999999'], /^akm: option '--ttl <seconds>' argument '99999999' is invalid\. It must be at most 3600\. /],
    ['a command group without its command', ['users'], /^akm: missing command \(see akm users --help\)$/],
    ['no command at all', [], /^akm: missing command \(see akm --help\)$/],
  ];
  for (const [what, args, message] of usageErrors) {
    it(`on ${what} (akm ${args.join(' ')}), prints one line on stderr and exits 2`, async () => {
      const run = await harness.akm(args, { env: { AKM_TOKEN: harness.issuer.admin } });
      expect(oneLineFailure(run, 2)).to.match(message);
    });
  }

  const helpRequests: Array<[string[], RegExp]> = [
    [['--help'], /^Usage: akm \[options\] \[command\]/],
    [['keys', 'create', '--help'], /^Usage: akm keys create \[options\]/],
    [['help', 'users'], /^Usage: akm users \[options\] \[command\]/],
  ];
  for (const [args, usage] of helpRequests) {
    it(`akm ${args.join(' ')} prints the help on stdout and exits 0`, async () => {
      const run = await harness.akm(args);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.equal('');
      expect(run.stdout).to.match(usage);
      expect(run.stdout.split('\n').length, run.stdout).to.be.greaterThan(5);
    });
  }

  it('--url wins over AKM_URL, both ways', async () => {
    const token = { AKM_TOKEN: harness.issuer.admin };
    const live = await harness.akm(['--url', harness.issuer.url, 'keys', 'list', '--json'], { env: { ...token, AKM_URL: dead } });
    expect(jsonOf<unknown[]>(live)).to.be.an('array');

    const toDead = await harness.akm(['--url', dead, 'keys', 'list', '--json'], { env: token });
    expect(oneLineFailure(toDead, 1)).to.include(`cannot reach the issuer at ${dead}`);
  });

  it('--url wins over the URL saved at sign-in', async () => {
    const config = harness.freshConfig();
    jsonOf(await harness.akm(['admin-token', '--save', '--json'], { env: { AKM_CONFIG_DIR: config } }));
    const run = await harness.akm(['--url', dead, 'whoami'], { env: { AKM_CONFIG_DIR: config, AKM_URL: '' } });
    expect(oneLineFailure(run, 1)).to.include(dead);
  });

  it('when the issuer is unreachable, prints one line naming its URL and exits 1', async () => {
    const run = await harness.akm(['users', 'list'], { env: { AKM_TOKEN: harness.issuer.admin, AKM_URL: dead } });
    expect(oneLineFailure(run, 1)).to.match(new RegExp(`^akm: cannot reach the issuer at ${dead}: `));
  });

  it('when --url points at a server that is not an issuer, prints one line naming it and exits 1', async () => {
    const web = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>\n<p>hello</p>\n</html>\n'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    try {
      const run = await harness.akm(['--url', url, 'keys', 'list'], { env: { AKM_TOKEN: harness.issuer.admin } });
      expect(oneLineFailure(run, 1)).to.equal(`akm: ${url} answered 200 with something other than JSON: is it an akm issuer?`);
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  });
});
