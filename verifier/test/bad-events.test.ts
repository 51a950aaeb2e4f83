/**
 * Defence in depth against key events the issuer never sends: forged on another key's subject,
 * with an expiry beyond any key's lifetime, or with an absurd version jump.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { createLogger, createMemoryKeyBus, type KeyEvent } from '@akm/common';
import { waitFor } from '../../test/support/processes.js';
import { createStaticKeySource, createVerifier, createVerifierMetrics, type Verifier } from '../src/index.js';
import { keyEvent } from './support/key-events.js';
import { createSigner, signKey, type TestSigner } from './support/signing.js';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

const YEAR_S = 365 * 24 * 3600;

/** A verifier on the in-process bus whose log lines the test reads. */
async function verifierOnBus(signer: TestSigner, now: () => number) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const bus = createMemoryKeyBus();
  const metrics = createVerifierMetrics();
  const verifier: Verifier = createVerifier({
    keys: createStaticKeySource(signer.jwks),
    feed: bus.createFeed(),
    metrics,
    now,
    logger: createLogger({ name: 'bad-events-test', level: 'warn', destination }),
  });
  await verifier.start();
  const metricsText = () => metrics.registry.metrics();
  return { bus, verifier, lines, metricsText };
}

describe('verifier: key events the issuer never sends', () => {
  let signer: TestSigner;
  let clock: number;

  beforeEach(async () => {
    signer = await createSigner();
    clock = Date.now();
  });

  it('when 30,000 forged events carry expiries beyond the longest key lifetime, refuses them all and holds no state for them', async function () {
    this.timeout(60_000);
    const { bus, verifier, lines, metricsText } = await verifierOnBus(signer, () => clock);
    const farS = Math.floor(clock / 1000) + 10 * YEAR_S;
    for (let i = 0; i < 30_000; i++) {
      const key = { token: '', keyId: `forged_${i}`, sub: 'mallory', rateLimit: 1_000_000, exp: farS };
      await bus.publisher.publish(keyEvent(key, 'key.enabled', { version: 1, role: 'admin', expiresAt: farS }));
    }

    const text = await metricsText();
    expect(text).to.match(/^akm_verifier_key_state_entries 0$/m);
    expect(text).to.match(/^akm_verifier_bad_events_total\{reason="expiry_out_of_range"\} 30000$/m);
    expect(lines.filter((l) => l.msg === 'dropped a key event')).to.have.length(30_000);
    expect(lines[0]).to.include({ level: 40, reason: 'expiry_out_of_range', keyId: 'forged_0' });
    await verifier.stop();
  });

  it('when a revoked key is re-enabled by an event expiring beyond the longest lifetime, keeps refusing it', async () => {
    const { bus, verifier } = await verifierOnBus(signer, () => clock);
    const key = await signKey(signer, {}, clock);
    await bus.publisher.publish(keyEvent(key, 'key.revoked', { version: 2 }));

    const withinS = Math.floor(clock / 1000) + YEAR_S;
    await bus.publisher.publish(keyEvent(key, 'key.enabled', { version: 3, expiresAt: withinS + 7 * 24 * 3600 }));

    const verdict = await verifier.verify(key.token);
    expect(verdict).to.deep.include({ ok: false, reason: 'revoked' });
    await verifier.stop();
  });

  it('when an expiry within the longest lifetime (and an hour of clock leeway) arrives, applies it', async () => {
    const { bus, verifier, metricsText } = await verifierOnBus(signer, () => clock);
    const key = await signKey(signer, {}, clock);

    const edgeS = Math.floor(clock / 1000) + YEAR_S + 3600;
    await bus.publisher.publish(keyEvent(key, 'key.updated', { version: 2, expiresAt: edgeS }));

    const verdict = await verifier.verify(key.token);
    expect(verdict.ok && verdict.key.expiresAt).to.equal(edgeS);
    expect(await metricsText()).not.to.match(/akm_verifier_bad_events_total\{/);
    await verifier.stop();
  });

  it('when a version jumps absurdly, applies it and logs one warning naming the key and both versions', async () => {
    const { bus, verifier, lines } = await verifierOnBus(signer, () => clock);
    const key = await signKey(signer, {}, clock);
    await bus.publisher.publish(keyEvent(key, 'key.created', { version: 1 }));
    await bus.publisher.publish(keyEvent(key, 'key.updated', { version: 2 }));
    expect(lines).to.deep.equal([]);

    await bus.publisher.publish(keyEvent(key, 'key.disabled', { version: 1_000_000 }));

    const jumps = lines.filter((l) => l.msg === 'key event version jumped absurdly; applied');
    expect(jumps).to.have.length(1);
    expect(jumps[0]).to.include({ keyId: key.keyId, heldVersion: 2, version: 1_000_000 });
    expect(await verifier.verify(key.token)).to.deep.include({ ok: false, reason: 'disabled' });
    await verifier.stop();
  });
});

describe('verifier service: an event forged on another subject of the key stream', () => {
  const t = useTestVerifier({ events: 'nats', instances: 0 });

  it('drops it on replay and live, counts it in akm_verifier_bad_events_total, and keeps the key revoked', async () => {
    const key = await signKey(t.signer);
    await t.stream.publish(keyEvent(key, 'key.revoked', { version: 2 }));
    const forged: KeyEvent = keyEvent(key, 'key.enabled', { version: 999, role: 'admin', rateLimit: 1_000_000 });
    await t.stream.publishRaw('anything', JSON.stringify(forged));
    const verifier = await t.start();

    await t.stream.publishRaw('else', JSON.stringify({ ...forged, id: 'other-id' }));
    await waitFor(async () => /akm_verifier_bad_events_total\{reason="wrong_subject"\} 2/.test(await verifier.metricsText()), 3000);

    const res = await request(verifier.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${key.token}`);
    expect(res.status, shown(res)).to.equal(401);
    expect(res.body.code, shown(res)).to.equal('key_revoked');
  });
});
