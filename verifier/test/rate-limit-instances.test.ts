import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createMemoryKeyBus } from '@akm/common';
import { startRedis, waitFor, type TestServer } from '../../test/support/processes.js';
import { createSigner, signKey, type TestSigner } from './support/signing.js';
import { startTestVerifier, type TestVerifier } from './support/verifier-fixture.js';

describe('verifier: never over the limit across three instances on one Redis', () => {
  let redis: TestServer | undefined;
  let signer: TestSigner;
  const instances: TestVerifier[] = [];

  beforeEach(async () => {
    [redis, signer] = await Promise.all([startRedis(), createSigner()]);
    const bus = createMemoryKeyBus();
    const keyPrefix = `rl3-${randomUUID()}`;
    for (let i = 0; i < 3; i++) {
      instances.push(await startTestVerifier({ signer, feed: bus.createFeed(), redisUrl: redis.url, keyPrefix }));
    }
    await waitFor(() => instances.every((v) => v.countingInRedis()), 5000);
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((v) => v.stop()));
    await redis?.destroy();
  });

  it('when 1,000 concurrent requests on a limit of 100 are spread over three instances, serves at most 100 and at least 95, the rest 429 rate_limited', async function () {
    this.timeout(60_000);
    const key = await signKey(signer, { rateLimit: 100 });

    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => instances[i % 3]!.get('/price?symbol=BTC', key.token)),
    );

    const served = answers.filter((a) => a.status === 200).length;
    const refused = answers.filter((a) => a.status === 429 && (a.body as { code?: string }).code === 'rate_limited').length;
    const others = answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => `${a.status} ${a.text}`);
    expect(others, 'answers neither 200 nor 429').to.deep.equal([]);
    expect(served, `served ${served} on a limit of 100`).to.be.at.most(100);
    expect(served, `served ${served} on a limit of 100`).to.be.at.least(95);
    expect(served + refused).to.equal(1000);
  });
});
