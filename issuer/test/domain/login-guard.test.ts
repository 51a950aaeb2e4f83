import { expect } from 'chai';
import { createLoginGuard } from '../../src/domain/login-guard.js';

describe('login guard: memory', () => {
  const limits = { perUserAddress: 5, perUser: 20, perAddress: 50, windowSeconds: 900 };
  let t: number;
  const now = () => t;
  beforeEach(() => {
    t = Date.UTC(2030, 0, 1);
  });

  it('when 60,000 distinct 250-character names are tried from one address, holds the entries of the 50 it allowed and no more', () => {
    const guard = createLoginGuard({ ...limits, now });
    let allowed = 0;
    for (let n = 0; n < 60_000; n++) if (guard.begin(`${n}-${'n'.repeat(244)}`, '203.0.113.1').ok) allowed++;

    expect(allowed).to.equal(50);
    expect(guard.size(), 'one address count, 50 name counts, 50 (name, address) counts').to.equal(1 + 50 + 50);
  });

  it('forgets every count once its window has passed, without being asked about it again', () => {
    const guard = createLoginGuard({ ...limits, now });
    for (let n = 0; n < 1000; n++) guard.begin(`user${n}`, `198.51.100.${n % 200}`);
    expect(guard.size()).to.be.greaterThan(0);

    t += 900_000;

    expect(guard.size()).to.equal(0);
  });

  it('remembers at most 10 addresses per user it signed in from, the latest ones', () => {
    const guard = createLoginGuard({ ...limits, now });
    for (let a = 0; a < 25; a++) {
      const check = guard.begin('bob', `192.0.2.${a}`);
      if (!check.ok) throw new Error('refused');
      guard.succeeded(check.attempt);
    }
    expect(guard.size(), 'known addresses only: successes leave no count behind').to.equal(10);
    expect(guard.begin('bob', '192.0.2.24')).to.deep.include({ ok: true });
    expect((guard.begin('bob', '192.0.2.24') as { attempt: { known: boolean } }).attempt.known).to.equal(true);
    expect((guard.begin('bob', '192.0.2.0') as { attempt: { known: boolean } }).attempt.known, 'the oldest was forgotten').to.equal(false);
  });
});
