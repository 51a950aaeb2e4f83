import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createLogger } from '@akm/common';
import { waitFor } from '../../../test/support/processes.js';
import {
  createPoolMetrics,
  createPoolService,
  DEFAULT_POOL_OPTIONS,
  type PoolOptions,
  type PoolService,
  type TokenPoolStore,
} from '../../src/pool/index.js';
import { admin, createTestClock, sqliteStores, user, type TestClock } from './pool-test-support.js';

interface LogLine {
  level: number;
  msg: string;
  poolToken?: string;
  holder?: string | null;
  reason?: string;
}

describe('pool service', () => {
  const stores = sqliteStores();
  let clock: TestClock;
  let store: TokenPoolStore;
  let registry = new Registry();
  let lines: LogLine[];
  let service: PoolService;

  function makeService(options: Partial<PoolOptions> = {}, over: TokenPoolStore = store): PoolService {
    registry = new Registry();
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as LogLine);
        done();
      },
    });
    return createPoolService({
      store: over,
      options: { ...DEFAULT_POOL_OPTIONS, maxTokens: 50, ...options },
      logger: createLogger({ name: 'pool-test', level: 'debug', destination }),
      metrics: createPoolMetrics(registry),
    });
  }
  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const found = (await registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
    );
    return found?.value ?? 0;
  }
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);

  beforeEach(() => {
    clock = createTestClock();
    store = stores.make(clock.now);
    lines = [];
    service = makeService();
  });
  after(() => stores.cleanup());

  it('generates the requested number of distinct URL-safe tokens and counts them', async () => {
    const result = await service.generateTokens(20, admin());
    const tokens = result.ok ? result.value : [];
    expect(new Set(tokens).size).to.equal(20);
    for (const token of tokens) expect(token).to.match(/^pt_[A-Za-z0-9_-]{24}$/);
    expect(await metric('akm_pool_tokens_generated_total')).to.equal(20);
    expect(await service.getStats()).to.deep.equal({ available: 20, assigned: 0, total: 20 });
  });

  it('answers pool_full when the pool would exceed its maximum, saying the maximum and the current size', async () => {
    await service.generateTokens(45, admin());
    expect(await service.generateTokens(6, admin())).to.deep.equal({
      ok: false,
      code: 'pool_full',
      message: 'the pool holds 45 of at most 50 tokens (POOL_MAX_TOKENS): 6 more would exceed it; at most 5 can be added',
    });
    const tooMany = await service.generateTokens(51, admin());
    expect(tooMany).to.deep.include({ ok: false, code: 'pool_full' });
    expect(!tooMany.ok && tooMany.message).to.include('the pool holds 45 of at most 50 tokens');
    expect((await service.getStats()).total).to.equal(45);
  });

  it('logs and counts an assignment, and an empty pool as pool_empty', async () => {
    await service.generateTokens(1, admin());
    const lease = await service.assignToken(user('alice'));
    expect(lease).to.deep.include({ ok: true });
    expect(await service.assignToken(user('bob'))).to.deep.include({ ok: false, code: 'pool_empty' });
    expect(logged('pool token assigned')).to.have.length(1);
    expect(logged('pool token assigned')[0]).to.include({ holder: 'alice', poolToken: lease.ok && lease.value.token });
    expect(await metric('akm_pool_assignments_total')).to.equal(1);
    expect(await metric('akm_pool_assign_empty_total')).to.equal(1);
  });

  it('releases an assignment nobody kept alive after the assignment TTL, in the next sweep', async () => {
    await service.generateTokens(1, admin());
    const lease = await service.assignToken(user('alice'));
    clock.advance(DEFAULT_POOL_OPTIONS.assignTtlSeconds * 1000 - 1);
    expect((await service.sweepOnce()).released).to.have.length(0);
    clock.advance(1);
    const token = lease.ok ? lease.value.token : '';
    expect((await service.sweepOnce()).released).to.deep.equal([{ token, holder: 'alice' }]);
    expect(logged('pool token released')[0]).to.include({ holder: 'alice', reason: 'expired' });
    expect(await metric('akm_pool_releases_total', { reason: 'expired' })).to.equal(1);
    expect(await metric('akm_pool_tokens', { state: 'available' })).to.equal(1);
  });

  it('purges tokens nobody kept alive after the keep-alive period and keeps those kept alive', async () => {
    const generated = await service.generateTokens(3, admin());
    const [kept] = generated.ok ? generated.value : [];
    clock.advance(200_000);
    await service.keepAliveToken(String(kept), user('carol'));
    clock.advance(100_000);
    const swept = await service.sweepOnce();
    expect(swept.purged).to.have.length(2);
    expect(logged('pool token purged').map((l) => l.reason)).to.deep.equal(['not_kept_alive', 'not_kept_alive']);
    expect(await metric('akm_pool_purges_total', { reason: 'not_kept_alive' })).to.equal(2);
    expect(await service.getStats()).to.deep.equal({ available: 1, assigned: 0, total: 1 });
  });

  it('logs and counts a release found lazily by another operation like one found by the sweeper', async () => {
    await service.generateTokens(1, admin());
    const lease = await service.assignToken(user('alice'));
    clock.advance(60_000);
    const token = lease.ok ? lease.value.token : '';
    expect(await service.unblockToken(token, user('alice'))).to.deep.include({ ok: false, code: 'not_assigned' });
    expect(await metric('akm_pool_releases_total', { reason: 'expired' })).to.equal(1);
  });

  it('logs an unblock and a delete with their reasons', async () => {
    await service.generateTokens(1, admin());
    const lease = await service.assignToken(user('alice'));
    const token = lease.ok ? lease.value.token : '';
    await service.unblockToken(token, user('alice'));
    await service.deleteToken(token, admin());
    expect(logged('pool token released')[0]).to.include({ reason: 'unblocked', holder: 'alice' });
    expect(logged('pool token purged')[0]).to.include({ reason: 'deleted', holder: null });
    expect(await metric('akm_pool_purges_total', { reason: 'deleted' })).to.equal(1);
  });

  it('runs the sweeper in the background, batch after batch while more is due, until stopped', async () => {
    service = makeService({ sweepBatch: 2, sweepIntervalMs: 60_000 });
    await service.generateTokens(7, admin());
    clock.advance(300_000);
    service.start();
    await waitFor(async () => (await metric('akm_pool_purges_total', { reason: 'not_kept_alive' })) === 7, 5000);
    await service.stop();
    expect((await store.counts()).ok && (await store.counts())).to.deep.include({ value: { available: 0, assigned: 0, total: 0 } });
  });

  it('keeps sweeping after a failed sweep, logging a warning', async () => {
    let calls = 0;
    const flaky: TokenPoolStore = {
      ...store,
      sweep: (limit) => (++calls === 1 ? Promise.reject(new Error('store away')) : store.sweep(limit)),
    };
    service = makeService({ sweepIntervalMs: 5 }, flaky);
    await service.generateTokens(1, admin());
    clock.advance(300_000);
    service.start();
    await waitFor(async () => (await metric('akm_pool_purges_total', { reason: 'not_kept_alive' })) === 1, 5000);
    await service.stop();
    expect(lines.some((l) => l.msg.startsWith('pool sweep failed') && l.level === 40)).to.equal(true);
  });
});
