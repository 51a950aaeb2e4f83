import { expect } from 'chai';
import { Redis } from 'ioredis';
import { scriptCalls } from '../support/redis-script-calls.js';
import { signKey } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

describe('verifier: a key over its limit is refused from memory', () => {
  let admin: Redis | undefined;
  // Registered before the fixture's, so it runs before the server stops.
  afterEach(async () => {
    await admin?.quit();
    admin = undefined;
  });
  // Its own server for each test: the test reads server-wide command counts.
  const t = useTestVerifier({ redis: { owned: true }, servers: 'each' });
  beforeEach(() => {
    admin = new Redis(t.redis.url);
  });

  it('when an exhausted key sends 50 more requests, answers each 429 rate_limited and Redis runs no counting command for them', async () => {
    const key = await signKey(t.signer, { rateLimit: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await t.verifier.get('/price?symbol=BTC', key.token);
      expect(res.status, shown(res)).to.equal(200);
    }
    // The first refusal is Redis's answer; it is what blocks the key in memory.
    const first = await t.verifier.get('/price?symbol=BTC', key.token);
    expect(first.status, shown(first)).to.equal(429);
    const countedBefore = await scriptCalls(admin!);
    expect(countedBefore, 'the limiter counts with a script in this Redis').to.be.at.least(4);

    const refused = [];
    for (let i = 0; i < 50; i++) refused.push(await t.verifier.get('/price?symbol=BTC', key.token));

    for (const res of refused) {
      expect(res.status, shown(res)).to.equal(429);
      expect(res.body.code, shown(res)).to.equal('rate_limited');
    }
    expect(await scriptCalls(admin!), 'scripts Redis ran while the key was blocked').to.equal(countedBefore);
    expect(await t.verifier.metricsText(), 'the refusals came from the block, not the memory fallback').to.not.match(
      /^akm_verifier_redis_fallbacks_total [1-9]/m,
    );
  });
});
