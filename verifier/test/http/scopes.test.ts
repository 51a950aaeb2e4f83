import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createLogger, errorHandler } from '@akm/common';
import { createVerifier } from '../../src/create-verifier.js';
import { createStaticKeySource } from '../../src/store/key-source.js';
import { publishNewKey } from '../support/key-events.js';
import type { KeySpec } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

/** Scopes: the `scope` claim, `protect({ scopes })`, `/auth?scopes=` and the shipped `/price`. */
describe('verifier: scopes', () => {
  const t = useTestVerifier();

  const known = (spec: KeySpec = {}) => publishNewKey(t.bus, t.signer, spec);
  const auth = (token: string, query = '') => request(t.verifier.url).get(`/auth${query}`).set('Authorization', `Bearer ${token}`);

  it('when a key without prices:read asks for /price, answers 403 insufficient_scope with the RFC 6750 challenge naming the scope', async () => {
    const key = await known({ scope: 'orders:write' });
    const res = await t.verifier.get('/price?symbol=BTC', key.token);
    expect(res.status, shown(res)).to.equal(403);
    expect(res.body.code, shown(res)).to.equal('insufficient_scope');
    expect(res.body.detail, shown(res)).to.contain('prices:read');
    expect(res.headers['www-authenticate']).to.equal('Bearer realm="akm", error="insufficient_scope", scope="prices:read"');
    expect(res.headers.ratelimit, 'the key was read, so its window is shown').to.match(/^"default";r=\d+;t=\d+$/);
  });

  it('serves /price to a key with prices:read among others, and to a key issued before scopes (no scope claim)', async () => {
    const scoped = await known({ scope: 'orders:write prices:read' });
    const legacy = await known({});
    for (const key of [scoped, legacy]) {
      const res = await t.verifier.get('/price?symbol=BTC', key.token);
      expect(res.status, shown(res)).to.equal(200);
    }
    const info = await t.verifier.get('/key/info', scoped.token);
    expect(info.body.scopes, shown(info)).to.deep.equal(['orders:write', 'prices:read']);
    const legacyInfo = await t.verifier.get('/key/info', legacy.token);
    expect(legacyInfo.body.scopes, shown(legacyInfo)).to.deep.equal(['prices:read']);
  });

  it('a key with an empty scope claim has no scope at all: /price is refused, /key/info (no scope required) is served', async () => {
    const key = await known({ scope: '' });
    expect((await t.verifier.get('/price?symbol=BTC', key.token)).body.code).to.equal('insufficient_scope');
    const info = await t.verifier.get('/key/info', key.token);
    expect(info.status, shown(info)).to.equal(200);
    expect(info.body.scopes).to.deep.equal([]);
  });

  it('forward auth takes scopes=a,b (all required), names the key\'s scopes in X-Akm-Scope, and refuses a bad list with 400', async () => {
    const key = await known({ scope: 'orders:read orders:write' });
    const ok = await auth(key.token, '?scopes=orders:read,orders:write');
    expect(ok.status, shown(ok)).to.equal(200);
    expect(ok.headers['x-akm-scope']).to.equal('orders:read orders:write');
    expect(ok.body.scopes).to.deep.equal(['orders:read', 'orders:write']);

    const lacking = await auth(key.token, '?scopes=orders:read,prices:read&roles=user');
    expect(lacking.status, shown(lacking)).to.equal(403);
    expect(lacking.body.code, shown(lacking)).to.equal('insufficient_scope');
    expect(lacking.headers['www-authenticate']).to.equal('Bearer realm="akm", error="insufficient_scope", scope="orders:read prices:read"');

    const bad = await auth(key.token, '?scopes=orders%20read');
    expect(bad.status, shown(bad)).to.equal(400);
    expect(bad.body.code, shown(bad)).to.equal('validation_failed');
  });

  it('protect({ scopes }) in a host app requires every scope listed', async () => {
    const lib = createVerifier({ keys: createStaticKeySource(t.signer.jwks), feed: t.bus.createFeed() });
    await lib.start();
    try {
      const app = express();
      app.get('/orders', lib.protect({ scopes: ['orders:read', 'orders:write'] }), (_req, res) => {
        res.json({ ok: true });
      });
      app.use(errorHandler(createLogger({ name: 'scopes-test', level: 'silent' })));
      const both = await known({ scope: 'orders:read orders:write' });
      const one = await known({ scope: 'orders:read' });
      const served = await request(app).get('/orders').set('Authorization', `Bearer ${both.token}`);
      expect(served.status, shown(served)).to.equal(200);
      const refused = await request(app).get('/orders').set('Authorization', `Bearer ${one.token}`);
      expect(refused.status, shown(refused)).to.equal(403);
      expect(refused.body.code, shown(refused)).to.equal('insufficient_scope');
      expect(refused.body.detail).to.contain('orders:write').and.not.contain('orders:read,');
    } finally {
      await lib.stop();
    }
  });
});
