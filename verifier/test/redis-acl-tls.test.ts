/**
 * Redis with an ACL user (and over TLS): the verifiers count with their credentials, and a client
 * without them cannot read, reset or delete the counters.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createMemoryKeyBus, type MemoryKeyBus } from '@akm/common';
import { startRedis, waitFor, type TestServer } from '../../test/support/processes.js';
import { createTestCertificates, type TestCertificates } from '../../test/support/tls.js';
import { keyEvent } from './support/key-events.js';
import { createSigner, signKey, type TestSigner } from './support/signing.js';
import { shown, startTestVerifier, type TestVerifier } from './support/verifier-fixture.js';

/** redis-server arguments: no default user; `akm` may use keys under `akm:` only. */
const aclArgs = (password: string) => ['--user', 'default', 'off', '--user', 'akm', 'on', `>${password}`, '~akm:*', '+@all'];
/** `redis://akm:<password>@host:port` from the server's URL. */
const withUser = (url: string, password: string) => url.replace('://', `://akm:${password}@`);

/** What refused `command` on `client` (its error and the connection's), or 'allowed'. */
async function refusal(client: Redis, command: () => Promise<unknown>): Promise<string> {
  const connectionErrors: string[] = [];
  client.on('error', (err: Error) => connectionErrors.push(err.message));
  try {
    await command();
    return 'allowed';
  } catch (err) {
    return [(err as Error).message, ...connectionErrors].join('; ');
  } finally {
    client.disconnect();
  }
}

describe('verifier: Redis with an ACL user and password', () => {
  let redis: TestServer | undefined;
  let signer: TestSigner;
  let bus: MemoryKeyBus;
  const verifiers: TestVerifier[] = [];
  const password = randomBytes(18).toString('base64url');
  const keyPrefix = `akm:rl-${randomUUID()}`;

  before(async () => {
    redis = await startRedis({ extraArgs: aclArgs(password) });
    signer = await createSigner();
    bus = createMemoryKeyBus();
    for (let i = 0; i < 2; i++) {
      verifiers.push(await startTestVerifier({ signer, feed: bus.createFeed(), redisUrl: withUser(redis.url, password), keyPrefix }));
    }
    await waitFor(() => verifiers.every((v) => v.countingInRedis()), 5000);
  });
  after(async () => {
    await Promise.all(verifiers.map((v) => v.stop()));
    await redis?.destroy();
  });

  it('counts with the right credentials: two verifiers share one limit', async () => {
    const key = await signKey(signer, { rateLimit: 3 });
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await verifiers[i % 2]!.get('/price?symbol=BTC', key.token)).status);

    expect(statuses).to.deep.equal([200, 200, 200, 429, 429, 429]);
  });

  it('a client without the credentials, or with a wrong password, cannot read or reset the counters', async () => {
    const key = await signKey(signer, { rateLimit: 2 });
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));
    for (let i = 0; i < 3; i++) await verifiers[0]!.get('/price?symbol=BTC', key.token);
    const options = { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => null };

    const anonymous = new Redis(redis!.url, options);
    const anonymousScan = await refusal(anonymous, () => anonymous.keys(`${keyPrefix}*`));
    const anonymousFlush = new Redis(redis!.url, options);
    const flush = await refusal(anonymousFlush, () => anonymousFlush.flushall());
    const wrong = new Redis(withUser(redis!.url, 'not-it'), options);
    const wrongDel = await refusal(wrong, () => wrong.del(`${keyPrefix}:${key.keyId}`));

    expect(anonymousScan).to.match(/NOAUTH/);
    expect(flush).to.match(/NOAUTH/);
    expect(wrongDel).to.match(/WRONGPASS/);
    const res = await verifiers[1]!.get('/price?symbol=BTC', key.token);
    expect(res.status, shown(res)).to.equal(429);
  });
});

describe('verifier: Redis over TLS (rediss://) with a CA file and an ACL user', () => {
  let certs: TestCertificates | undefined;
  let redis: TestServer | undefined;
  let verifier: TestVerifier | undefined;
  let signer: TestSigner;
  let bus: MemoryKeyBus;
  const password = randomBytes(18).toString('base64url');

  before(async () => {
    certs = createTestCertificates();
    redis = await startRedis({ extraArgs: aclArgs(password), tls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile } });
    signer = await createSigner();
    bus = createMemoryKeyBus();
    verifier = await startTestVerifier({
      signer, feed: bus.createFeed(), redisUrl: withUser(redis.url, password), redisCaFile: certs.caFile, keyPrefix: `akm:rl-${randomUUID()}`,
    });
  });
  after(async () => {
    await verifier?.stop();
    await redis?.destroy();
    certs?.remove();
  });

  it('counts in Redis over TLS, trusting the CA file', async () => {
    expect(redis!.url).to.match(/^rediss:\/\//);
    await waitFor(() => verifier!.countingInRedis(), 5000);
    const key = await signKey(signer, { rateLimit: 2 });
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await verifier!.get('/price?symbol=BTC', key.token)).status);

    expect(statuses).to.deep.equal([200, 200, 429]);
    expect(verifier!.countingInRedis()).to.equal(true);
  });

  it('a client that does not trust the CA cannot connect', async () => {
    const client = new Redis(withUser(redis!.url, password), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const answer = await refusal(client, async () => {
      await client.connect();
      return client.ping();
    });

    expect(answer).to.match(/certificate/i);
  });
});
