import { expect } from 'chai';
import { keyEvent } from '../support/key-events.js';
import { signKey, type SignedKey } from '../support/signing.js';
import { shown, useTestVerifier } from '../support/verifier-fixture.js';

/** A rolled key: served through its grace, then refused as revoked by the verifier's own clock. */
describe('verifier: a rolled key', () => {
  const T0 = 1_800_000_000_000;
  let clock: number;
  beforeEach(() => {
    clock = T0;
  });
  const t = useTestVerifier({ instances: 0, now: () => clock });

  /** A key created at T0 and rolled at once, its grace ending at T0 + 60 s. */
  async function rolledKey(): Promise<SignedKey> {
    const key = await signKey(t.signer, { exp: T0 / 1000 + 3600 }, T0);
    await t.bus.publisher.publish(keyEvent(key, 'key.created', { version: 1, at: T0 / 1000 }));
    await t.bus.publisher.publish({ ...keyEvent(key, 'key.rolled', { version: 2, at: T0 / 1000 }), revokeAt: T0 / 1000 + 60, rolledTo: 'the-new-key' });
    return key;
  }

  it('serves the old key until its revokeAt, then answers 401 key_revoked with no event after the roll', async () => {
    const verifier = await t.start();
    const key = await rolledKey();
    clock = T0 + 59_900;
    const during = await verifier.get('/price?symbol=BTC', key.token);
    expect(during.status, shown(during)).to.equal(200);
    const info = await verifier.get('/key/info', key.token);
    expect(info.body.expiresAt, 'it stops working at the end of its grace').to.equal(new Date((T0 / 1000 + 60) * 1000).toISOString());

    clock = T0 + 60_000;
    const after = await verifier.get('/price?symbol=BTC', key.token);
    expect(after.status, shown(after)).to.equal(401);
    expect(after.body.code, shown(after)).to.equal('key_revoked');
    expect(after.headers['www-authenticate']).to.contain('error="invalid_token"');
  });

  it('a verifier that starts after the roll replays it: the grace holds, and ends, the same way', async () => {
    const key = await rolledKey();
    clock = T0 + 30_000;
    const verifier = await t.start();
    expect((await verifier.get('/price?symbol=BTC', key.token)).status).to.equal(200);
    clock = T0 + 61_000;
    const after = await verifier.get('/price?symbol=BTC', key.token);
    expect(after.body.code, shown(after)).to.equal('key_revoked');
  });
});
