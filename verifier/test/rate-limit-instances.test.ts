import { expect } from 'chai';
import { signKey } from './support/signing.js';
import { useTestVerifier } from './support/verifier-fixture.js';

describe('verifier: never over the limit across three instances on one Redis', () => {
  const t = useTestVerifier({ redis: true, instances: 3 });

  it('when 1,000 concurrent requests on a limit of 100 are spread over three instances, serves at most 100 and at least 95, the rest 429 rate_limited', async function () {
    this.timeout(60_000);
    const key = await signKey(t.signer, { rateLimit: 100 });

    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => t.verifiers[i % 3]!.get('/price?symbol=BTC', key.token)),
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
