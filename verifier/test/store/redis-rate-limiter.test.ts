import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createMemoryKeyBus } from '@akm/common';
import { scriptCalls } from '../support/redis-script-calls.js';
import { startRedis, waitFor, type TestServer } from '../../../test/support/processes.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';
import { shown, startTestVerifier, type TestVerifier } from '../support/verifier-fixture.js';

describe('verifier: a key over its limit is refused from memory', () => {
  let redis: TestServer;
  let admin: Redis;
  let signer: TestSigner;
  let verifier: TestVerifier;

  beforeEach(async () => {
    // Its own server: the test reads server-wide command counts.
    [redis, signer] = await Promise.all([startRedis({ owned: true }), createSigner()]);
    admin = new Redis(redis.url);
    verifier = await startTestVerifier({ signer, feed: createMemoryKeyBus().createFeed(), redisUrl: redis.url });
    await waitFor(() => verifier.countingInRedis(), 5000);
  });
  afterEach(async () => {
    await verifier.stop();
    await admin.quit();
    await redis.destroy();
  });

  it('when an exhausted key sends 50 more requests, answers each 429 rate_limited and Redis runs no counting command for them', async () => {
    const key = await signKey(signer, { rateLimit: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await verifier.get('/price?symbol=BTC', key.token);
      expect(res.status, shown(res)).to.equal(200);
    }
    // The first refusal is Redis's answer; it is what blocks the key in memory.
    const first = await verifier.get('/price?symbol=BTC', key.token);
    expect(first.status, shown(first)).to.equal(429);
    const countedBefore = await scriptCalls(admin);
    expect(countedBefore, 'the limiter counts with a script in this Redis').to.be.at.least(4);

    const refused = [];
    for (let i = 0; i < 50; i++) refused.push(await verifier.get('/price?symbol=BTC', key.token));

    for (const res of refused) {
      expect(res.status, shown(res)).to.equal(429);
      expect(res.body.code, shown(res)).to.equal('rate_limited');
    }
    expect(await scriptCalls(admin), 'scripts Redis ran while the key was blocked').to.equal(countedBefore);
    expect(await verifier.metricsText(), 'the refusals came from the block, not the memory fallback').to.not.match(
      /^akm_verifier_redis_fallbacks_total [1-9]/m,
    );
  });
});
