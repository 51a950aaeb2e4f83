import { expect } from 'chai';
import { parseKeyEvent } from '@akm/common';
import { waitFor } from '../../test/support/processes.js';
import { keyEvent } from './support/key-events.js';
import { signKey, type SignedKey } from './support/signing.js';
import { shown, useTestVerifier } from './support/verifier-fixture.js';

/** A key event exactly as issuers before event version 2 wrote it: `v` 1, `at` in milliseconds. */
function v1Event(key: SignedKey, type: string, status: string, version: number, rateLimit = key.rateLimit): string {
  return JSON.stringify({
    v: 1, type, id: `${key.keyId}-v1-${version}`, keyId: key.keyId, sub: key.sub, role: 'user', status,
    rateLimit, expiresAt: key.exp, version, at: 1_700_000_000_123,
  });
}

describe('verifier: a stream that still holds version 1 events', () => {
  const t = useTestVerifier({ events: 'nats', instances: 0 });

  it('reads a version 1 event as version 2, with its time in seconds', () => {
    const parsed = parseKeyEvent(JSON.stringify({
      v: 1, type: 'key.revoked', id: 'e1', keyId: 'k1', sub: 'alice', role: 'user', status: 'revoked',
      rateLimit: 10, expiresAt: 1_800_000_000, version: 3, at: 1_700_000_000_999,
    }));
    expect(parsed).to.deep.equal({
      ok: true,
      event: { v: 2, type: 'key.revoked', id: 'e1', keyId: 'k1', sub: 'alice', role: 'user', status: 'revoked', rateLimit: 10, expiresAt: 1_800_000_000, version: 3, at: 1_700_000_000 },
    });
  });

  it('refuses a version 1 event with a field version 1 never had, and a version it does not know', () => {
    const base = { type: 'key.created', id: 'e1', keyId: 'k1', sub: 'alice', role: 'user', status: 'active', rateLimit: 10, expiresAt: 1_800_000_000, version: 1, at: 1 };
    expect(parseKeyEvent(JSON.stringify({ ...base, v: 1, extra: true })).ok).to.equal(false);
    expect(parseKeyEvent(JSON.stringify({ ...base, v: 3 })).ok).to.equal(false);
  });

  it('a verifier that replays version 1 events on start refuses the revoked key and honours the patched limit, then follows version 2 events on the same keys', async () => {
    const revoked = await signKey(t.signer);
    const patched = await signKey(t.signer, { rateLimit: 100 });
    await t.stream.publishRaw(revoked.keyId, v1Event(revoked, 'key.revoked', 'revoked', 2));
    await t.stream.publishRaw(patched.keyId, v1Event(patched, 'key.updated', 'active', 2, 3));
    const verifier = await t.start();

    const refused = await verifier.get('/price?symbol=BTC', revoked.token);
    expect(refused.status, shown(refused)).to.equal(401);
    expect(refused.body.code).to.equal('key_revoked');
    const served = await verifier.get('/price?symbol=BTC', patched.token);
    expect(served.status, shown(served)).to.equal(200);
    expect(served.headers['ratelimit-policy']).to.equal('"default";q=3;w=60');

    await t.stream.publish(keyEvent(patched, 'key.revoked', { version: 3 }));
    await waitFor(async () => (await verifier.get('/price?symbol=BTC', patched.token)).status === 401, 3000);
  });
});
