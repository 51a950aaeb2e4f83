import { expect } from 'chai';
import { createKeyStateStore } from '../../src/domain/key-state-store.js';
import type { KeyEvent } from '@akm/common';

const T0 = 1_700_000_000_000;

function event(keyId: string, version: number, expiresAt: number, at = T0 / 1000): KeyEvent {
  return {
    v: 2, type: 'key.updated', id: `${keyId}-${version}`, keyId, sub: 'alice', role: 'user',
    status: 'active', rateLimit: 10, expiresAt, version, at,
  };
}

describe('key-state store', () => {
  let clock: number;
  const store = () => createKeyStateStore({ now: () => clock, retainSeconds: 300 });
  beforeEach(() => (clock = T0));

  it('applies a newer event and ignores one whose version is not newer', () => {
    const s = store();
    expect(s.apply({ ...event('k', 2, T0 / 1000 + 60), rateLimit: 7 })).to.equal(true);
    expect(s.apply({ ...event('k', 2, T0 / 1000 + 60), rateLimit: 99 })).to.equal(false);
    expect(s.apply({ ...event('k', 1, T0 / 1000 + 60), rateLimit: 99 })).to.equal(false);
    expect(s.get('k')?.rateLimit).to.equal(7);
  });

  it('keeps an entry until its expiry plus the retention, then drops it', () => {
    const s = store();
    s.apply(event('k', 1, T0 / 1000 + 60));

    clock = T0 + 359_000;
    expect(s.get('k')).to.not.equal(undefined);
    clock = T0 + 360_000;
    expect(s.get('k')).to.equal(undefined);
    expect(s.size()).to.equal(0);
  });

  it('when a key is extended, the earlier drop time no longer removes it', () => {
    const s = store();
    s.apply(event('k', 1, T0 / 1000 + 60));
    s.apply(event('k', 2, T0 / 1000 + 3600));

    clock = T0 + 400_000;

    expect(s.get('k')?.version).to.equal(2);
  });

  it('keeps an entry at least the retention after its latest change, even if already expired', () => {
    const s = store();
    s.apply(event('k', 1, T0 / 1000 - 3600, T0 / 1000));

    clock = T0 + 299_000;
    expect(s.get('k')).to.not.equal(undefined);
    clock = T0 + 301_000;
    expect(s.get('k')).to.equal(undefined);
  });

  it('stays bounded by live keys under many updates and expiries', () => {
    const s = store();
    for (let i = 0; i < 20_000; i++) {
      clock = T0 + i * 100;
      s.apply(event(`k${i % 50}`, Math.floor(i / 50) + 1, Math.floor(clock / 1000) + 10, Math.floor(clock / 1000)));
      s.apply(event(`short${i}`, 1, Math.floor(clock / 1000) + 1, Math.floor(clock / 1000)));
    }
    // Every "short" key is dropped 301 s after it appeared: about 3 010 are live at the end.
    expect(s.size()).to.be.within(50, 50 + 3020);
  });

  it('when dropped entries make room for new keys, each key reads back exactly its own latest state', () => {
    // Every fifth key has several limits of its own; the others the one per-minute limit of rateLimit.
    const limitsOf = (i: number) => [
      { name: 'default', limit: 7 * i + 1, windowSeconds: 60 },
      { name: 'day', limit: 1000 + (i % 3), windowSeconds: 86_400 },
    ];
    const s = store();
    for (let i = 0; i < 3000; i++) s.apply({ ...event(`old${i}`, 1, T0 / 1000 + 10), sub: `o${i}`, rateLimit: i + 1 });
    clock = T0 + 400_000;
    expect(s.size()).to.equal(0);

    for (let i = 0; i < 3000; i++) {
      const status = (['active', 'disabled', 'revoked'] as const)[i % 3]!;
      s.apply({
        ...event(`new${i}`, 5, clock / 1000 + 60 + i, clock / 1000),
        sub: `n${i}`, role: i % 2 ? 'admin' : 'user', status, rateLimit: 7 * i + 1,
        ...(i % 5 === 0 ? { limits: limitsOf(i) } : {}),
      });
    }

    expect(s.size()).to.equal(3000);
    expect(s.get('old17')).to.equal(undefined);
    for (const i of [0, 1, 2, 1023, 1024, 1537, 2999]) {
      expect(s.get(`new${i}`), `new${i}`).to.deep.equal({
        keyId: `new${i}`, sub: `n${i}`, role: i % 2 ? 'admin' : 'user', status: (['active', 'disabled', 'revoked'] as const)[i % 3],
        rateLimit: 7 * i + 1, expiresAt: clock / 1000 + 60 + i, version: 5,
        limits: i % 5 === 0 ? limitsOf(i) : [{ name: 'default', limit: 7 * i + 1, windowSeconds: 60 }],
        rolledOut: false,
      });
    }
    // Each new key is dropped at its own time, not at a time scheduled for the slot's previous key.
    clock += (60 + 1500 + 300) * 1000;
    expect(s.get('new1499')).to.equal(undefined);
    expect(s.get('new1501')?.rateLimit).to.equal(7 * 1501 + 1);
  });

  it('a rolled key ends at its revokeAt as revoked, by the store\'s own clock, and keeps its role and status', () => {
    const s = store();
    const expiresAt = T0 / 1000 + 3600;
    s.apply({ ...event('rolled', 2, expiresAt), role: 'admin', revokeAt: T0 / 1000 + 60, rolledTo: 'next' });
    s.apply({ ...event('late', 2, expiresAt), revokeAt: expiresAt + 10 });
    expect(s.get('rolled')).to.include({ expiresAt: T0 / 1000 + 60, rolledOut: true, role: 'admin', status: 'active' });
    expect(s.get('late'), 'a grace past the expiry: the key simply expires').to.include({ expiresAt, rolledOut: false });
  });
});
