/**
 * Suites whose setup fails half-way, run by `fixture-teardown.test.ts` in a mocha process of their
 * own: the last line names the servers still running once every after-hook has run.
 */
import { execFileSync } from 'node:child_process';
import { useTestVerifier } from '../../verifier/test/support/verifier-fixture.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

/** This process's server children. */
const servers = () => execFileSync('ps', ['--ppid', String(process.pid), '-o', 'comm='], { encoding: 'utf8' }).split('\n').filter((c) => c.endsWith('-server'));
/** redis-server refuses to start with these arguments, after nats-server has started. */
const refusedRedis = { extraArgs: ['--no-such-directive', 'x'] };

describe('useTestVerifier, servers for the suite', () => {
  useTestVerifier({ events: 'nats', redis: refusedRedis });
  it('never runs', () => {});
});

describe('useTestVerifier, servers for each test', () => {
  useTestVerifier({ events: 'nats', redis: refusedRedis, servers: 'each' });
  it('never runs', () => {});
});

describe('useWiredVerifiers', () => {
  useWiredVerifiers({
    name: 'half-way',
    redis: true,
    issuer: () => {
      console.log(`up when the issuer failed: ${JSON.stringify(servers())}`);
      throw new Error('the issuer failed to start');
    },
  });
  it('never runs', () => {});
});

after(() => console.log(`left running: ${JSON.stringify(servers())}`));
