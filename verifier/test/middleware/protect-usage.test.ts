import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createLogger, createMemoryKeyBus, createMemoryUsageBus, type UsageReport } from '@akm/common';
import { createStaticKeySource, createVerifier } from '../../src/index.js';
import { keyEvent } from '../support/key-events.js';
import { createSigner, signKey } from '../support/signing.js';

describe('verifier library: usage per key', () => {
  it('counts each protected request of a known key by outcome, and reports them in one report when stopped, none per request', async () => {
    const signer = await createSigner();
    const keys = createMemoryKeyBus();
    const usage = createMemoryUsageBus();
    const reports: UsageReport[] = [];
    usage.feed.start((r) => void reports.push(r));

    const nowS = Math.floor(Date.now() / 1000);
    const limited = await signKey(signer, { sub: 'ann', rateLimit: 2 });
    const user = await signKey(signer, { sub: 'bo' });
    const revoked = await signKey(signer, { sub: 'cy' });
    const disabled = await signKey(signer, { sub: 'di' });
    const expired = await signKey(signer, { sub: 'ed' });
    await keys.publisher.publish(keyEvent(limited, 'key.created', { version: 1 }));
    await keys.publisher.publish(keyEvent(user, 'key.created', { version: 1 }));
    await keys.publisher.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    await keys.publisher.publish(keyEvent(disabled, 'key.disabled', { version: 2 }));
    await keys.publisher.publish(keyEvent(expired, 'key.updated', { version: 2, expiresAt: nowS - 10 }));

    const verifier = createVerifier({
      keys: createStaticKeySource(signer.jwks),
      feed: keys.createFeed(),
      usage: usage.publisher,
      usageIntervalMs: 60_000,
      usageSource: 'orders-1',
      logger: createLogger({ name: 'orders', level: 'silent' }),
    });
    const app = express();
    app.get('/orders', verifier.protect(), (_req, res) => void res.json({}));
    app.get('/admin', verifier.protect({ roles: ['admin'] }), (_req, res) => void res.json({}));
    await verifier.start();

    const call = (path: string, token?: string) => {
      const req = request(app).get(path);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call('/orders', limited.token)).status);
    for (let i = 0; i < 3; i++) statuses.push((await call('/orders', user.token)).status);
    for (let i = 0; i < 2; i++) statuses.push((await call('/admin', user.token)).status);
    for (let i = 0; i < 2; i++) statuses.push((await call('/orders', revoked.token)).status);
    statuses.push((await call('/orders', disabled.token)).status);
    statuses.push((await call('/orders', expired.token)).status);
    statuses.push((await call('/orders', 'not.a.key')).status, (await call('/orders')).status);
    expect(statuses).to.deep.equal([200, 200, 429, 429, 429, 200, 200, 200, 403, 403, 401, 401, 401, 401, 401, 401]);
    expect(reports, 'no report per request').to.have.length(0);

    await verifier.stop();

    expect(reports).to.have.length(1);
    expect(reports[0]).to.include({ v: 1, source: 'orders-1', id: 'orders-1:1' });
    const counts: Record<string, unknown> = {};
    for (const minute of reports[0]!.minutes) Object.assign(counts, minute.keys);
    expect(counts).to.deep.equal({
      [limited.keyId]: { served: 2, rate_limited: 3 },
      [user.keyId]: { served: 3, forbidden: 2 },
      [revoked.keyId]: { revoked: 2 },
      [disabled.keyId]: { disabled: 1 },
      [expired.keyId]: { expired: 1 },
    });
  });

  it('counts requests decided by forward auth and /v1/verify in the same usage as protect(), once each', async () => {
    const signer = await createSigner();
    const keys = createMemoryKeyBus();
    const usage = createMemoryUsageBus();
    const reports: UsageReport[] = [];
    usage.feed.start((r) => void reports.push(r));
    const key = await signKey(signer, { sub: 'fay', rateLimit: 3 });
    const revoked = await signKey(signer, { sub: 'gus' });
    await keys.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));
    await keys.publisher.publish(keyEvent(revoked, 'key.revoked', { version: 2 }));
    const verifier = createVerifier({
      keys: createStaticKeySource(signer.jwks),
      feed: keys.createFeed(),
      usage: usage.publisher,
      usageIntervalMs: 60_000,
      usageSource: 'gateway-1',
      logger: createLogger({ name: 'gateway', level: 'silent' }),
    });
    const app = express();
    app.all('/auth', verifier.forwardAuth());
    app.post('/v1/verify', express.json(), verifier.verifyEndpoint());
    app.get('/orders', verifier.protect(), (_req, res) => void res.json({}));
    await verifier.start();

    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
    const statuses = [
      (await request(app).get('/auth').set(bearer(key.token))).status,
      (await request(app).post('/v1/verify').send({ key: key.token })).body.valid,
      (await request(app).get('/orders').set(bearer(key.token))).status,
      (await request(app).get('/auth').set(bearer(key.token))).status,
      (await request(app).post('/v1/verify').send({ key: revoked.token })).body.code,
      (await request(app).get('/auth').set(bearer(revoked.token))).status,
    ];
    expect(statuses).to.deep.equal([200, true, 200, 429, 'key_revoked', 401]);
    await verifier.stop();

    const counts: Record<string, unknown> = {};
    for (const minute of reports[0]!.minutes) Object.assign(counts, minute.keys);
    expect(counts).to.deep.equal({ [key.keyId]: { served: 3, rate_limited: 1 }, [revoked.keyId]: { revoked: 2 } });
  });
});
