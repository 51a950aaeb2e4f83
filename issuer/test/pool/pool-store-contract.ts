/**
 * The behaviour every {@link TokenPoolStore} must have, run against each implementation.
 */
import { expect } from 'chai';
import type { PoolTimings, TokenPoolStore } from '../../src/pool/index.js';
import { createTestClock, type TestClock } from './pool-test-support.js';

const TIMINGS: PoolTimings = { keepAliveMs: 300_000, assignTtlMs: 60_000 };
const LIMITS = { maxTokens: 100, keepAliveMs: TIMINGS.keepAliveMs };
const HOLDER_LIMIT = { maxPerHolder: 10 };
const alice = { sub: 'alice', admin: false };
const bob = { sub: 'bob', admin: false };
const root = { sub: 'root', admin: true };

/** Makes a store on fresh, empty storage reading `now`. */
export type MakePoolStore = (now: () => number) => TokenPoolStore | Promise<TokenPoolStore>;

/** Registers the shared contract tests of a pool store. */
export function describePoolStoreContract(name: string, makeStore: MakePoolStore): void {
  describe(`${name} pool store contract`, () => {
    let clock: TestClock;
    let store: TokenPoolStore;
    const names = (n: number, tag = 't') => Array.from({ length: n }, (_, i) => `${tag}${i}`);
    async function assigned(holder = 'alice'): Promise<string> {
      const result = await store.assign(holder, TIMINGS, HOLDER_LIMIT);
      if (!result.ok) throw new Error(`expected an assignment, got ${result.reason}`);
      return result.value.token;
    }

    beforeEach(async () => {
      clock = createTestClock();
      store = await makeStore(clock.now);
    });

    describe('adding tokens', () => {
      it('adds available tokens that live for the keep-alive period', async () => {
        const added = await store.addTokens(names(3), LIMITS);
        expect(added).to.deep.include({ ok: true, value: { size: 3 } });
        expect(await store.getToken('t1')).to.deep.equal({
          token: 't1', state: 'available', holder: null, assignedUntil: null, aliveUntil: clock.now() + TIMINGS.keepAliveMs,
        });
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 3, assigned: 0, total: 3 } });
      });

      it('refuses with pool_full and adds none when the pool would exceed its maximum', async () => {
        await store.addTokens(names(8), { ...LIMITS, maxTokens: 10 });
        const refused = await store.addTokens(names(3, 'u'), { ...LIMITS, maxTokens: 10 });
        expect(refused).to.deep.include({ ok: false, reason: 'pool_full' });
        expect(await store.getToken('u0')).to.equal(undefined);
        expect(await store.addTokens(names(2, 'u'), { ...LIMITS, maxTokens: 10 })).to.deep.include({ ok: true });
      });

      it('refuses with duplicate and adds none when a token is already in the pool or given twice', async () => {
        await store.addTokens(['a'], LIMITS);
        expect(await store.addTokens(['b', 'a'], LIMITS)).to.deep.include({ ok: false, reason: 'duplicate' });
        expect(await store.addTokens(['c', 'c'], LIMITS)).to.deep.include({ ok: false, reason: 'duplicate' });
        expect(await store.getToken('b')).to.equal(undefined);
        expect(await store.getToken('c')).to.equal(undefined);
      });
    });

    describe('assigning', () => {
      it('leases a token to its holder until the assignment deadline', async () => {
        await store.addTokens(['only'], LIMITS);
        const result = await store.assign('alice', TIMINGS, HOLDER_LIMIT);
        expect(result).to.deep.include({
          ok: true,
          value: { token: 'only', state: 'assigned', holder: 'alice', assignedUntil: clock.now() + 60_000, aliveUntil: clock.now() + 300_000 },
        });
        expect(await store.getToken('only')).to.deep.include({ state: 'assigned', holder: 'alice' });
      });

      it('answers pool_empty when no token is available', async () => {
        expect(await store.assign('alice', TIMINGS, HOLDER_LIMIT)).to.deep.include({ ok: false, reason: 'pool_empty' });
        await store.addTokens(['x'], LIMITS);
        await assigned();
        expect(await store.assign('bob', TIMINGS, HOLDER_LIMIT)).to.deep.include({ ok: false, reason: 'pool_empty' });
      });

      it('never hands out a token twice while it is assigned', async () => {
        await store.addTokens(names(10), LIMITS);
        const tokens = await Promise.all(names(10).map((_, i) => assigned(`h${i}`)));
        expect(new Set(tokens).size).to.equal(10);
      });

      it('picks tokens at random rather than always the same one', async () => {
        await store.addTokens(names(50), LIMITS);
        const seen = new Set<string>();
        for (let i = 0; i < 30; i++) {
          const token = await assigned();
          seen.add(token);
          await store.unblock(token, alice);
        }
        expect(seen.size).to.be.greaterThan(5);
      });

      it('counts an assignment as a sign of life', async () => {
        await store.addTokens(['x'], LIMITS);
        clock.advance(200_000);
        await assigned();
        expect((await store.getToken('x'))?.aliveUntil).to.equal(clock.now() + TIMINGS.keepAliveMs);
      });
    });

    describe('the per-holder cap', () => {
      const CAP = { maxPerHolder: 3 };

      it('refuses the next assignment of a holder at the cap with holder_limit, leaves others unaffected, and lets it assign again once it gives one back', async () => {
        await store.addTokens(names(10), LIMITS);
        const held = [];
        for (let i = 0; i < 3; i++) {
          const result = await store.assign('alice', TIMINGS, CAP);
          expect(result, JSON.stringify(result)).to.deep.include({ ok: true });
          if (result.ok) held.push(result.value.token);
        }

        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 7, assigned: 3, total: 10 } });
        expect(await store.assign('bob', TIMINGS, CAP)).to.deep.include({ ok: true });

        expect(await store.unblock(held[0]!, alice)).to.deep.include({ ok: true });
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: true });
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });
      });

      it('answers holder_limit rather than pool_empty to a holder at the cap', async () => {
        await store.addTokens(names(3), LIMITS);
        for (let i = 0; i < 3; i++) await store.assign('alice', TIMINGS, CAP);
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });
        expect(await store.assign('bob', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'pool_empty' });
      });

      it('does not count leases past their deadline, nor tokens removed or purged', async () => {
        await store.addTokens(names(20), LIMITS);
        // More due leases than an operation's lazy sweep applies, all due before alice's first:
        // hers must be applied because it is hers, not because it is the earliest.
        for (let i = 0; i < 10; i++) expect(await store.assign(`other${i}`, TIMINGS, CAP)).to.deep.include({ ok: true });
        clock.advance(1);
        const first = await store.assign('alice', TIMINGS, CAP);
        clock.advance(30_000);
        const second = await store.assign('alice', TIMINGS, CAP);
        const third = await store.assign('alice', TIMINGS, CAP);
        expect([first, second, third].every((r) => r.ok)).to.equal(true);
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });

        // The first lease lapses (60 s after it began): it no longer counts, even before a sweep.
        clock.advance(30_000);
        const again = await store.assign('alice', TIMINGS, CAP);
        expect(again, JSON.stringify(again)).to.deep.include({ ok: true });
        expect(again.effects.released).to.deep.include({ token: first.ok ? first.value.token : '', holder: 'alice' });
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });

        // An admin removes one of alice's tokens: it no longer counts either.
        expect(await store.remove(second.ok ? second.value.token : '')).to.deep.include({ ok: true, value: { holder: 'alice' } });
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: true });
      });

      it('keeps counting a lease its holder keeps alive', async () => {
        await store.addTokens(names(5), LIMITS);
        const leases = [];
        for (let i = 0; i < 3; i++) leases.push(await store.assign('alice', TIMINGS, CAP));
        for (let minute = 0; minute < 3; minute++) {
          clock.advance(50_000);
          for (const lease of leases) if (lease.ok) expect(await store.keepAlive(lease.value.token, alice, TIMINGS)).to.deep.include({ ok: true });
        }
        expect(await store.assign('alice', TIMINGS, CAP)).to.deep.include({ ok: false, reason: 'holder_limit' });
      });

      it('counts each holder apart, also when one name starts with another', async () => {
        await store.addTokens(names(20), LIMITS);
        const holders = ['ab', 'ab:c', 'a', 'abc', '2:ab', 'ab:'];
        for (const holder of holders) {
          for (let i = 0; i < 3; i++) expect(await store.assign(holder, TIMINGS, CAP), `${holder} #${i + 1}`).to.deep.include({ ok: true });
        }
        for (const holder of holders) {
          expect(await store.assign(holder, TIMINGS, CAP), holder).to.deep.include({ ok: false, reason: 'holder_limit' });
        }
      });

      it('holds under concurrency: 30 simultaneous assignments by one holder capped at 5 get exactly 5 tokens', async () => {
        await store.addTokens(names(20), LIMITS);
        const results = await Promise.all(Array.from({ length: 30 }, () => store.assign('alice', TIMINGS, { maxPerHolder: 5 })));
        expect(results.filter((r) => r.ok)).to.have.length(5);
        expect(results.filter((r) => !r.ok && r.reason === 'holder_limit')).to.have.length(25);
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 15, assigned: 5, total: 20 } });
      });
    });

    describe('unblocking', () => {
      it('returns the token to the pool when its holder unblocks it', async () => {
        await store.addTokens(['x'], LIMITS);
        await assigned('alice');
        const result = await store.unblock('x', alice);
        expect(result).to.deep.include({ ok: true });
        expect(result.ok && result.value.holder).to.equal('alice');
        expect(await store.getToken('x')).to.deep.include({ state: 'available', holder: null, assignedUntil: null });
        expect(await assigned('bob')).to.equal('x');
      });

      it('lets an admin unblock anyone\'s token but refuses another user with forbidden', async () => {
        await store.addTokens(['x'], LIMITS);
        await assigned('alice');
        expect(await store.unblock('x', bob)).to.deep.include({ ok: false, reason: 'forbidden' });
        expect(await store.getToken('x')).to.deep.include({ state: 'assigned', holder: 'alice' });
        expect(await store.unblock('x', root)).to.deep.include({ ok: true });
      });

      it('answers not_assigned for an available token and not_found for an unknown one', async () => {
        await store.addTokens(['x'], LIMITS);
        expect(await store.unblock('x', root)).to.deep.include({ ok: false, reason: 'not_assigned' });
        expect(await store.unblock('nope', root)).to.deep.include({ ok: false, reason: 'not_found' });
      });
    });

    describe('keep-alive', () => {
      it('postpones the purge of an available token, whoever asks', async () => {
        await store.addTokens(['x'], LIMITS);
        clock.advance(250_000);
        const result = await store.keepAlive('x', bob, TIMINGS);
        expect(result).to.deep.include({ ok: true });
        expect(result.ok && result.value).to.deep.include({ state: 'available', aliveUntil: clock.now() + 300_000 });
        clock.advance(250_000);
        expect(await store.getToken('x')).to.deep.include({ state: 'available' });
      });

      it('extends the assignment when the holder or an admin keeps an assigned token alive', async () => {
        await store.addTokens(['x'], LIMITS);
        await assigned('alice');
        clock.advance(50_000);
        expect(await store.keepAlive('x', alice, TIMINGS)).to.deep.include({ ok: true });
        clock.advance(50_000);
        expect(await store.getToken('x')).to.deep.include({ holder: 'alice', assignedUntil: clock.now() + 10_000 });
        const byAdmin = await store.keepAlive('x', root, TIMINGS);
        expect(byAdmin.ok && byAdmin.value.assignedUntil).to.equal(clock.now() + 60_000);
      });

      it('refuses another user on an assigned token with forbidden and answers not_found for an unknown one', async () => {
        await store.addTokens(['x'], LIMITS);
        await assigned('alice');
        expect(await store.keepAlive('x', bob, TIMINGS)).to.deep.include({ ok: false, reason: 'forbidden' });
        expect(await store.keepAlive('nope', alice, TIMINGS)).to.deep.include({ ok: false, reason: 'not_found' });
      });
    });

    describe('deadlines', () => {
      it('releases an assignment nobody kept alive once its deadline passes, even before a sweep', async () => {
        await store.addTokens(['x'], LIMITS);
        await assigned('alice');
        clock.advance(60_000);
        expect(await store.getToken('x')).to.deep.include({ state: 'available', holder: null });
        const unblock = await store.unblock('x', alice);
        expect(unblock).to.deep.include({ ok: false, reason: 'not_assigned' });
        expect(unblock.effects.released).to.deep.equal([{ token: 'x', holder: 'alice' }]);
        expect(await assigned('bob')).to.equal('x');
      });

      it('purges a token nobody kept alive, and an assigned one reports its holder', async () => {
        await store.addTokens(['held'], { ...LIMITS, keepAliveMs: 1000 });
        const lease = await store.assign('alice', { keepAliveMs: 1000, assignTtlMs: 5000 }, HOLDER_LIMIT);
        expect(lease.ok).to.equal(true);
        await store.addTokens(['free'], { ...LIMITS, keepAliveMs: 1000 });
        clock.advance(1000);
        expect(await store.getToken('free')).to.equal(undefined);
        const swept = await store.sweep(10);
        expect(swept.purged).to.have.deep.members([
          { token: 'free', holder: null },
          { token: 'held', holder: 'alice' },
        ]);
        expect(await store.keepAlive('held', alice, TIMINGS)).to.deep.include({ ok: false, reason: 'not_found' });
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 0, assigned: 0, total: 0 } });
      });

      it('sweeps at most a batch at a time, earliest deadline first, and says when more is due', async () => {
        await store.addTokens(['early'], LIMITS);
        clock.advance(1);
        await store.addTokens(names(9), LIMITS);
        await store.addTokens(['late'], { ...LIMITS, keepAliveMs: LIMITS.keepAliveMs * 2 });
        clock.advance(LIMITS.keepAliveMs);
        const first = await store.sweep(3);
        expect(first.purged.map((p) => p.token)[0]).to.equal('early');
        expect(first).to.deep.include({ more: true });
        expect(first.purged).to.have.length(3);
        let rounds = 1;
        while ((await store.sweep(3)).more) rounds++;
        expect(rounds).to.be.within(3, 4);
        expect(await store.getToken('late')).to.deep.include({ state: 'available' });
      });

      it('releases due assignments in a sweep and makes their tokens assignable again', async () => {
        await store.addTokens(names(3), LIMITS);
        for (const holder of ['a', 'b', 'c']) await assigned(holder);
        clock.advance(60_000);
        const swept = await store.sweep(10);
        expect(swept.released.map((r) => r.holder).sort()).to.deep.equal(['a', 'b', 'c']);
        expect(swept.more).to.equal(false);
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 3, assigned: 0, total: 3 } });
      });

      it('skips tokens past their purge deadline when assigning, and purges them', async () => {
        await store.addTokens(names(20, 'dead'), { ...LIMITS, keepAliveMs: 1000 });
        clock.advance(1000);
        await store.addTokens(['fresh'], LIMITS);
        const result = await store.assign('alice', TIMINGS, HOLDER_LIMIT);
        expect(result).to.deep.include({ ok: true });
        expect(result.ok && result.value.token).to.equal('fresh');
        expect(result.effects.purged.length).to.be.greaterThan(0);
      });
    });

    describe('removing', () => {
      it('removes an available or an assigned token and answers not_found afterwards', async () => {
        await store.addTokens(['x', 'y'], LIMITS);
        const held = await assigned('alice');
        const other = held === 'x' ? 'y' : 'x';
        expect(await store.remove(held)).to.deep.include({ ok: true, value: { holder: 'alice' } });
        expect(await store.remove(other)).to.deep.include({ ok: true, value: { holder: null } });
        expect(await store.remove(held)).to.deep.include({ ok: false, reason: 'not_found' });
        expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 0, assigned: 0, total: 0 } });
      });
    });

    describe('under concurrency', () => {
      it('gives 50 concurrent assigners on a pool of 20 exactly 20 distinct tokens and 30 pool_empty', async () => {
        await store.addTokens(names(20), LIMITS);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.assign(`h${i}`, TIMINGS, HOLDER_LIMIT)));
        const tokens = results.flatMap((r) => (r.ok ? [r.value.token] : []));
        expect(new Set(tokens).size).to.equal(20);
        expect(results.filter((r) => !r.ok && r.reason === 'pool_empty')).to.have.length(30);
      });
    });
  });
}
