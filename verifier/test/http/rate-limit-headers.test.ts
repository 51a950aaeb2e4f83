import { expect } from 'chai';
import { signKey } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

type Answer = { status: number; text: string; headers: Record<string, string>; body: { code?: string; remaining?: number } };

/** The `r` and `t` of a `RateLimit` field, failing with the answer when it is absent or malformed. */
function windowOf(res: Answer): { r: number; t: number } {
  const m = /^"default";r=(\d+);t=(\d+)$/.exec(res.headers['ratelimit'] ?? '');
  expect(m, `RateLimit field missing or malformed; ${shown(res)}; headers ${JSON.stringify(res.headers)}`).to.not.equal(null);
  return { r: Number(m![1]), t: Number(m![2]) };
}

function expectPolicy(res: Answer, limit: number) {
  expect(res.headers['ratelimit-policy'], `${shown(res)}; headers ${JSON.stringify(res.headers)}`).to.equal(`"default";q=${limit};w=60`);
}

describe('verifier: RateLimit headers once the key is verified', () => {
  const t = useTestVerifier({ scope: 'all', redis: true });

  it('when a user key calls an admin route, the 403 forbidden carries the key\'s RateLimit-Policy and RateLimit', async () => {
    const key = await signKey(t.signer, { role: 'user', rateLimit: 5 });

    const res = (await t.verifier.get('/admin/verifier', key.token)) as unknown as Answer;

    expect(res.status, shown(res)).to.equal(403);
    expect(res.body.code, shown(res)).to.equal('forbidden');
    expectPolicy(res, 5);
    const { r, t: resetIn } = windowOf(res);
    expect(r, shown(res)).to.be.within(4, 5);
    expect(resetIn, shown(res)).to.be.within(0, 60);
  });

  it('when the symbol is unknown, the route\'s own 404 not_found carries RateLimit-Policy and RateLimit', async () => {
    const key = await signKey(t.signer, { rateLimit: 7 });

    const res = (await t.verifier.get('/price?symbol=UNKNOWN', key.token)) as unknown as Answer;

    expect(res.status, shown(res)).to.equal(404);
    expect(res.body.code, shown(res)).to.equal('not_found');
    expectPolicy(res, 7);
    expect(windowOf(res).r, shown(res)).to.equal(6);
  });

  it('when the symbol is malformed, the route\'s own 400 carries RateLimit-Policy and RateLimit', async () => {
    const key = await signKey(t.signer, { rateLimit: 9 });

    const res = (await t.verifier.get('/price?symbol=not-a-symbol!', key.token)) as unknown as Answer;

    expect(res.status, shown(res)).to.equal(400);
    expect(res.body.code, shown(res)).to.equal('validation_failed');
    expectPolicy(res, 9);
    expect(windowOf(res).r, shown(res)).to.equal(8);
  });

  it('GET /key/info carries RateLimit-Policy and RateLimit matching the plan it answers, without counting', async () => {
    const key = await signKey(t.signer, { rateLimit: 5 });
    for (let i = 0; i < 2; i++) {
      const served = await t.verifier.get('/price?symbol=BTC', key.token);
      expect(served.status, shown(served)).to.equal(200);
    }

    const first = (await t.verifier.get('/key/info', key.token)) as unknown as Answer;
    const again = (await t.verifier.get('/key/info', key.token)) as unknown as Answer;

    for (const res of [first, again]) {
      expect(res.status, shown(res)).to.equal(200);
      expectPolicy(res, 5);
      expect(windowOf(res).r, shown(res)).to.equal(3);
      expect(res.body.remaining, shown(res)).to.equal(3);
    }
  });

  it('with several limits, RateLimit-Policy lists every policy and RateLimit the one closest to refusing; a refusal leaves the others uncharged', async () => {
    const key = await signKey(t.signer, {
      rateLimit: 2,
      limits: [
        { name: 'burst', limit: 2, windowSeconds: 60 },
        { name: 'hour', limit: 10, windowSeconds: 3600 },
      ],
    });
    const policy = '"burst";q=2;w=60, "hour";q=10;w=3600';
    const first = (await t.verifier.get('/price?symbol=BTC', key.token)) as unknown as Answer;
    expect(first.status, shown(first)).to.equal(200);
    expect(first.headers['ratelimit-policy']).to.equal(policy);
    expect(first.headers['ratelimit']).to.match(/^"burst";r=1;t=\d+$/);
    await t.verifier.get('/price?symbol=BTC', key.token);
    const refused = (await t.verifier.get('/price?symbol=BTC', key.token)) as unknown as Answer;
    expect(refused.status, shown(refused)).to.equal(429);
    expect(refused.body.code).to.equal('rate_limited');
    expect(refused.headers['ratelimit-policy']).to.equal(policy);
    expect(refused.headers['ratelimit']).to.match(/^"burst";r=0;t=\d+$/);

    const info = await t.verifier.get('/key/info', key.token);
    expect(info.body.limits.map((l: { name: string; remaining: number }) => [l.name, l.remaining]), shown(info)).to.deep.equal([
      ['burst', 0],
      ['hour', 8],
    ]);
  });
});
