import { expect } from 'chai';
import request from 'supertest';
import { keyEvent, publishNewKey } from '../support/key-events.js';
import { neverReplayedFeed } from '../support/never-replayed-feed.js';
import { REFUSED_TOKEN_CASES } from '../support/refused-token-cases.js';
import { createSigner, signKey, type KeySpec, type TestSigner } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

describe('verifier: POST /v1/verify', () => {
  const t = useTestVerifier();
  let other: TestSigner;

  before(async () => {
    other = await createSigner();
  });

  const ask = (body: unknown, verifier = t.verifier) => request(verifier.url).post('/v1/verify').send(body as object);

  const known = (spec: KeySpec = {}) => publishNewKey(t.bus, t.signer, spec);

  it('for a valid key answers 200 valid:true with its id, owner, role, stored expiry and window, and counts the question', async () => {
    const key = await known({ sub: 'dave', rateLimit: 5 });
    const first = await ask({ key: key.token });
    expect(first.status, shown(first)).to.equal(200);
    expect(first.body).to.deep.include({
      valid: true, keyId: key.keyId, sub: 'dave', role: 'user', expiresAt: new Date(key.exp * 1000).toISOString(), limit: 5, remaining: 4,
    });
    expect(first.body.reset).to.be.within(0, 60);
    expect(first.headers['cache-control']).to.equal('no-store');
    expect((await ask({ key: key.token })).body.remaining).to.equal(3);
  });

  it('with consume:false reads the window without counting', async () => {
    const key = await known({ rateLimit: 5 });
    for (let i = 0; i < 3; i++) expect((await ask({ key: key.token, consume: false })).body.remaining).to.equal(5);
    expect((await ask({ key: key.token })).body.remaining).to.equal(4);
    expect((await ask({ key: key.token, consume: false })).body.remaining).to.equal(4);
  });

  it('shares its count with protect(): a key that used its limit on /price is answered valid:false rate_limited with retryAfter', async () => {
    const key = await known({ rateLimit: 2 });
    await t.verifier.get('/price?symbol=BTC', key.token);
    await t.verifier.get('/price?symbol=BTC', key.token);
    const res = await ask({ key: key.token });
    expect(res.status, shown(res)).to.equal(200);
    expect(res.body).to.deep.include({ valid: false, code: 'rate_limited', limit: 2, remaining: 0 });
    expect(res.body.retryAfter).to.be.within(1, 60);
    const peek = await ask({ key: key.token, consume: false });
    expect(peek.body, 'consume:false never refuses for the limit').to.deep.include({ valid: true, remaining: 0 });
  });

  it('answers valid:false key_revoked, key_disabled and key_expired from the stream, and honours an expiry the stream extended past the signed exp', async () => {
    const revoked = await known();
    const disabled = await known();
    const shortened = await known();
    const extended = await known({ exp: Math.floor(Date.now() / 1000) - 10 });
    const later = Math.floor(Date.now() / 1000) + 86_400;
    await t.bus.publisher.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    await t.bus.publisher.publish(keyEvent(disabled, 'key.disabled', { version: 2 }));
    await t.bus.publisher.publish(keyEvent(shortened, 'key.updated', { version: 2, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    await t.bus.publisher.publish(keyEvent(extended, 'key.updated', { version: 2, expiresAt: later, rateLimit: 7 }));
    for (const [key, code] of [[revoked, 'key_revoked'], [disabled, 'key_disabled'], [shortened, 'key_expired']] as const) {
      const res = await ask({ key: key.token });
      expect(res.status, shown(res)).to.equal(200);
      expect(res.body, shown(res)).to.deep.equal({ valid: false, code, detail: res.body.detail });
      expect(res.body.detail).to.be.a('string').and.not.match(/ERR_/);
    }
    const res = await ask({ key: extended.token });
    expect(res.body, shown(res)).to.deep.include({ valid: true, expiresAt: new Date(later * 1000).toISOString(), limit: 7 });
  });

  for (const c of REFUSED_TOKEN_CASES) {
    it(`for a key ${c.name}, answers valid:false ${c.code} and nothing else about it (400 when over 4096 characters)`, async () => {
      const key = await c.token(t.signer, other, Math.floor(Date.now() / 1000));
      const res = await ask({ key });
      if (key.length > 4096) {
        expect(res.status, shown(res)).to.equal(400);
        expect(res.body.code).to.equal('validation_failed');
        return;
      }
      expect(res.status, shown(res)).to.equal(200);
      expect(Object.keys(res.body).sort(), shown(res)).to.deep.equal(['code', 'detail', 'valid']);
      expect(res.body).to.deep.include({ valid: false, code: c.code });
    });
  }

  it('is no oracle: a string not signed by the issuer that names a revoked (or a live) key id is invalid_key, never the named key\'s state or owner', async () => {
    const revoked = await known({ sub: 'erin' });
    const live = await known({ sub: 'frank' });
    await t.bus.publisher.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    for (const target of [revoked, live]) {
      const forged = await signKey({ ...other, kid: t.signer.kid }, { keyId: target.keyId, sub: target.sub, role: 'admin', rateLimit: 1_000_000 });
      const [h, , s] = target.token.split('.');
      const [, forgedPayload] = forged.token.split('.');
      for (const token of [forged.token, `${h}.${forgedPayload}.${s}`]) {
        const res = await ask({ key: token });
        expect(res.body, shown(res)).to.deep.equal({ valid: false, code: 'invalid_key', detail: res.body.detail });
        expect(res.text).not.to.include(target.sub);
      }
    }
    expect((await ask({ key: live.token, consume: false })).body.remaining, 'forgeries do not count against the key they name').to.equal(100);
  });

  it('refuses a body that is not {key, consume?}: 400 validation_failed naming the field, or 400 malformed_json', async () => {
    for (const body of [{}, { key: '' }, { key: 42 }, { key: 'a', consume: 'no' }, { key: 'a', extra: 1 }, { key: 'x'.repeat(4097) }]) {
      const res = await ask(body);
      expect(res.status, `${JSON.stringify(body).slice(0, 40)}: ${shown(res)}`).to.equal(400);
      expect(res.body.code).to.equal('validation_failed');
    }
    const bad = await request(t.verifier.url).post('/v1/verify').set('Content-Type', 'application/json').send('{"key":');
    expect(bad.status, shown(bad)).to.equal(400);
    expect(bad.body.code).to.equal('malformed_json');
  });

  it('before the key stream is replayed, answers 503 unavailable (the question cannot be answered yet)', async () => {
    const unready = await t.start({ feed: neverReplayedFeed(), waitReady: false });
    const res = await ask({ key: (await signKey(t.signer)).token }, unready);
    expect(res.status, shown(res)).to.equal(503);
    expect(res.body.code).to.equal('unavailable');
  });
});
