import { expect } from 'chai';
import { waitFor } from '../../test/support/processes.js';
import { keyEvent } from './support/key-events.js';
import { signKey } from './support/signing.js';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

describe('verifier: key state from the key stream', () => {
  let clock: number;
  // Registered first: each test's verifier starts on its own clock.
  beforeEach(() => {
    clock = Date.now();
  });
  const t = useTestVerifier({ events: 'nats', now: () => clock });

  const price = (token: string) => t.verifier.get('/price?symbol=BTC', token);
  const untilStatus = (token: string, status: number) =>
    waitFor(async () => (await price(token)).status === status, 3000);

  it('when an active key is presented, serves the price with RateLimit headers', async () => {
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));

    const res = await price(key.token);

    expect(res.status, shown(res)).to.equal(200);
    expect(res.body).to.include({ symbol: 'BTC' });
    expect(res.headers['ratelimit-policy']).to.equal('"default";q=100;w=60');
    expect(res.headers['ratelimit']).to.match(/^"default";r=99;t=\d+$/);
  });

  it('when a key is revoked, answers 401 key_revoked', async () => {
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    expect((await price(key.token)).status).to.equal(200);

    await t.stream.publish(keyEvent(key, 'key.revoked', { version: 2 }));
    await untilStatus(key.token, 401);

    const res = await price(key.token);
    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('key_revoked');
  });

  it('when a key is disabled, answers 401 key_disabled, and serves it again once re-enabled', async () => {
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(key, 'key.disabled', { version: 1 }));
    await untilStatus(key.token, 401);
    const disabled = await price(key.token);
    expect(disabled.body.code, shown(disabled)).to.equal('key_disabled');

    await t.stream.publish(keyEvent(key, 'key.enabled', { version: 2 }));
    await untilStatus(key.token, 200);

    const enabled = await price(key.token);
    expect(enabled.status, shown(enabled)).to.equal(200);
  });

  it('when the rate limit is patched, the new limit applies at once to the same key', async () => {
    const key = await signKey(t.signer, { rateLimit: 100 }, clock);
    await t.stream.publish(keyEvent(key, 'key.created', { version: 1 }));
    expect((await price(key.token)).status).to.equal(200);

    await t.stream.publish(keyEvent(key, 'key.updated', { version: 2, rateLimit: 2 }));
    await waitFor(async () => (await t.verifier.get('/key/info', key.token)).body.rateLimit === 2, 3000);

    const second = await price(key.token);
    const third = await price(key.token);
    expect(second.status, shown(second)).to.equal(200);
    expect(second.headers['ratelimit-policy']).to.equal('"default";q=2;w=60');
    expect(third.status, shown(third)).to.equal(429);
    expect(third.body.code, shown(third)).to.equal('rate_limited');
  });

  it('when the expiry is patched shorter, the key is refused from that time with key_expired', async () => {
    const key = await signKey(t.signer, {}, clock);
    const shorter = Math.floor(clock / 1000) + 60;
    await t.stream.publish(keyEvent(key, 'key.updated', { version: 2, expiresAt: shorter }));
    await waitFor(async () => (await t.verifier.get('/key/info', key.token)).body.expiresAt === new Date(shorter * 1000).toISOString(), 3000);
    expect((await price(key.token)).status).to.equal(200);

    clock += 61_000;
    const res = await price(key.token);

    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('key_expired');
  });

  it('when the expiry is patched later, the key is served past its signed exp', async () => {
    const key = await signKey(t.signer, { exp: Math.floor(clock / 1000) + 60 }, clock);
    const later = Math.floor(clock / 1000) + 3600;
    await t.stream.publish(keyEvent(key, 'key.updated', { version: 2, expiresAt: later }));
    await waitFor(async () => (await t.verifier.get('/key/info', key.token)).body.expiresAt === new Date(later * 1000).toISOString(), 3000);

    clock += 600_000;
    const res = await price(key.token);

    expect(res.status, shown(res)).to.equal(200);
  });

  it('when an older event arrives after a newer one, ignores it', async () => {
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(key, 'key.revoked', { version: 3 }));
    await untilStatus(key.token, 401);

    await t.stream.publish(keyEvent(key, 'key.enabled', { version: 2 }));
    const marker = await signKey(t.signer, {}, clock);
    await t.stream.publish(keyEvent(marker, 'key.disabled', { version: 1 }));
    await untilStatus(marker.token, 401);

    const res = await price(key.token);
    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('key_revoked');
  });

  it('when a message cannot be parsed, skips it, counts it, and applies the next event', async () => {
    const key = await signKey(t.signer, {}, clock);
    await t.stream.publishRaw(key.keyId, '{"type":"key.revoked","oops":true}');
    await t.stream.publish(keyEvent(key, 'key.disabled', { version: 1 }));
    await untilStatus(key.token, 401);

    const metrics = await t.verifier.metricsText();
    expect(metrics).to.match(/^akm_verifier_bad_events_total\{reason="unparseable"\} 1$/m);
    expect((await price(key.token)).body.code).to.equal('key_disabled');
  });

  it('when a key has no state and was issued recently, serves it on its claims (its event may be on its way)', async () => {
    const key = await signKey(t.signer, {}, clock);

    const res = await price(key.token);

    expect(res.status, shown(res)).to.equal(200);
  });

  it('when a key has no state and was issued long ago, answers 401 invalid_key', async () => {
    const key = await signKey(t.signer, { iat: Math.floor(clock / 1000) - 3600 }, clock);

    const res = await price(key.token);

    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('invalid_key');
  });
});
