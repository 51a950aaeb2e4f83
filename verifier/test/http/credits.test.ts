import { expect } from 'chai';
import request from 'supertest';
import type { CreditGrant } from '@akm/common';
import { keyEvent } from '../support/key-events.js';
import { signKey, type SignedKey } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

/** Credits on one verifier, on an explicit clock: spent, exhausted, topped up, refilled. */
describe('verifier: credits', () => {
  // 2027-01-15T10:00:00Z: a day boundary is 14 h away, a month boundary 17 days.
  const T0 = Date.UTC(2027, 0, 15, 10);
  let clock: number;
  // Registered first: each test's verifier starts on T0.
  beforeEach(() => {
    clock = T0;
  });
  const t = useTestVerifier({ now: () => clock });

  const grant = (g: Partial<CreditGrant> & { remaining: number }): CreditGrant => ({ grantedAt: T0 / 1000, grant: `g-${Math.random()}`, ...g });
  async function keyWith(credits: CreditGrant): Promise<SignedKey> {
    const key = await signKey(t.signer, { exp: T0 / 1000 + 90 * 86_400, rateLimit: 1000 }, T0);
    await t.bus.publisher.publish(keyEvent(key, 'key.created', { version: 1, credits, at: T0 / 1000 }));
    return key;
  }
  const price = (key: SignedKey) => t.verifier.get('/price?symbol=BTC', key.token);

  it('serves exactly the credits, then answers 429 credits_exhausted without Retry-After; /key/info shows what is left', async () => {
    const key = await keyWith(grant({ remaining: 3 }));
    for (let i = 0; i < 3; i++) expect((await price(key)).status).to.equal(200);
    const info = await t.verifier.get('/key/info', key.token);
    expect(info.body.credits, shown(info)).to.deep.equal({ remaining: 0 });
    const refused = await price(key);
    expect(refused.status, shown(refused)).to.equal(429);
    expect(refused.body.code, shown(refused)).to.equal('credits_exhausted');
    expect(refused.headers['retry-after'], 'no refill is due').to.equal(undefined);
    expect(refused.headers.ratelimit, 'the rate limit was not charged').to.match(/^"default";r=997;/);
  });

  it('a top-up (a new grant in a later event) is spent from zero again', async () => {
    const key = await keyWith(grant({ remaining: 1 }));
    await price(key);
    expect((await price(key)).body.code).to.equal('credits_exhausted');
    await t.bus.publisher.publish(keyEvent(key, 'key.updated', { version: 2, credits: grant({ remaining: 2, grantedAt: T0 / 1000 + 5 }) }));
    expect((await price(key)).status).to.equal(200);
    expect((await price(key)).status).to.equal(200);
    expect((await price(key)).body.code).to.equal('credits_exhausted');
  });

  it('with a daily refill: exhausted answers Retry-After until the next UTC day, and the next day has the refill amount', async () => {
    const key = await keyWith(grant({ remaining: 2, refill: { amount: 4, interval: 'day' } }));
    await price(key);
    await price(key);
    const refused = await price(key);
    expect(refused.body.code, shown(refused)).to.equal('credits_exhausted');
    expect(Number(refused.headers['retry-after'])).to.equal(14 * 3600);
    const info = await t.verifier.get('/key/info', key.token);
    expect(info.body.credits).to.deep.equal({ remaining: 0, refill: { amount: 4, interval: 'day' }, refillAt: '2027-01-16T00:00:00.000Z' });

    clock = Date.UTC(2027, 0, 16, 0, 0, 1);
    for (let i = 0; i < 4; i++) expect((await price(key)).status, `day 2, request ${i + 1}`).to.equal(200);
    expect((await price(key)).body.code).to.equal('credits_exhausted');
  });

  it('with a monthly refill, the next month starts on the 1st (UTC) with the refill amount', async () => {
    const key = await keyWith(grant({ remaining: 1, refill: { amount: 2, interval: 'month' } }));
    await price(key);
    const refused = await price(key);
    expect(Number(refused.headers['retry-after'])).to.equal((Date.UTC(2027, 1, 1) - T0) / 1000);
    clock = Date.UTC(2027, 1, 1, 0, 0, 0);
    expect((await price(key)).status).to.equal(200);
    expect((await price(key)).status).to.equal(200);
    expect((await price(key)).body.code).to.equal('credits_exhausted');
  });

  it('POST /v1/verify shows the credits left and names credits_exhausted', async () => {
    const key = await keyWith(grant({ remaining: 1 }));
    const first = await request(t.verifier.url).post('/v1/verify').send({ key: key.token });
    expect(first.body, shown(first)).to.include({ valid: true, credits: 0 });
    const second = await request(t.verifier.url).post('/v1/verify').send({ key: key.token });
    expect(second.body, shown(second)).to.include({ valid: false, code: 'credits_exhausted' });
  });
});
