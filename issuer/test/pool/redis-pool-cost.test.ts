/**
 * The Redis pool store's cost must not grow with the pool: its Lua scripts use only commands
 * that touch one member (or a bounded range), and on a real redis-server each operation runs
 * the same commands, as many times, on a pool of 10,000 tokens as on one of 20.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedis, type TestServer } from '../../../test/support/processes.js';
import { stopEach } from '../../../test/support/teardown.js';
import type { PoolTimings, TokenPoolStore } from '../../src/pool/index.js';
import { POOL_SCRIPTS } from '../../src/pool/redis-pool-scripts.js';
import { createTestClock, redisStores, type TestClock } from './pool-test-support.js';

/**
 * Commands a pool script may call, each O(1) or O(log N) in the size of the pool as the scripts
 * call them (one member at a time). Anything else (KEYS, SCAN, SMEMBERS, HGETALL, SORT, ZRANGE,
 * SPOP with a count, DEL of a whole collection…) must be argued for before it is added here.
 */
const CONSTANT_OR_LOG = new Set(['HGET', 'HSET', 'HDEL', 'SADD', 'SREM', 'SPOP', 'SCARD', 'ZADD', 'ZREM', 'ZSCORE', 'ZCARD']);
/**
 * Range reads allowed only with a LIMIT: O(log N + limit). ZRANGEBYLEX reads one holder's
 * tokens (the per-holder cap), a range bounded by the cap.
 */
const WITH_LIMIT = new Set(['ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZRANGEBYLEX']);

interface ScriptCall {
  command: string;
  line: string;
}

/** Every `redis.call`/`redis.pcall` of a script, with the line it is on. */
function callsOf(lua: string): { calls: ScriptCall[]; total: number } {
  const calls: ScriptCall[] = [];
  let total = 0;
  for (const line of lua.split('\n')) {
    total += (line.match(/redis\.p?call\s*\(/g) ?? []).length;
    for (const m of line.matchAll(/redis\.p?call\s*\(\s*'([A-Za-z]+)'/g)) calls.push({ command: m[1]!.toUpperCase(), line: line.trim() });
  }
  return { calls, total };
}

/** Why a script call may cost O(N) over the pool, or undefined when it may not. */
function costProblem(call: ScriptCall): string | undefined {
  if (CONSTANT_OR_LOG.has(call.command)) {
    if (call.command === 'SPOP' && /'SPOP'\s*,\s*[^,)]+,/.test(call.line)) return 'SPOP with a count';
    return undefined;
  }
  if (WITH_LIMIT.has(call.command)) return /'LIMIT'/.test(call.line) ? undefined : `${call.command} without LIMIT`;
  return `${call.command} is not known to be O(1) or O(log N)`;
}

describe('Redis pool store: no script walks the whole pool', () => {
  it('when the scripts are read, every Redis command they call is O(1), O(log N) or a LIMITed range', () => {
    for (const [name, lua] of Object.entries(POOL_SCRIPTS)) {
      const { calls, total } = callsOf(lua);
      expect(calls.length, `${name}: every redis.call names its command as a literal`).to.equal(total);
      const problems = calls.map((c) => [costProblem(c), c.line] as const).filter(([p]) => p !== undefined);
      expect(problems, `${name}: ${JSON.stringify(problems)}`).to.deep.equal([]);
    }
  });

  it('the static check itself refuses commands that read the whole pool', () => {
    const lua = [
      "redis.call('KEYS', '*')", "redis.call('SMEMBERS', avail)", "redis.call('HGETALL', holders)",
      "redis.call('ZRANGE', alive, 0, -1)", "redis.call('ZRANGEBYSCORE', lease, '-inf', now)",
      "redis.call('SCAN', 0)", "redis.call('SORT', avail)", "redis.call('SPOP', avail, 100)",
    ].join('\n');
    const { calls } = callsOf(lua);
    expect(calls.map((c) => costProblem(c) !== undefined)).to.deep.equal(calls.map(() => true));
    expect(calls).to.have.length(8);
  });
});

describe('Redis pool store: the same Redis work on 20 tokens as on 10,000', () => {
  const TIMINGS: PoolTimings = { keepAliveMs: 300_000, assignTtlMs: 60_000 };
  const HOLDER_LIMIT = { maxPerHolder: 10 };
  const alice = { sub: 'alice', admin: false };
  let redis: TestServer;
  let admin: Redis;
  const stores = redisStores(() => redis.url);

  before(async () => {
    // Its own server: the test resets and reads server-wide command counts.
    redis = await startRedis({ owned: true });
    admin = new Redis(redis.url);
  });
  after(() => stopEach(() => stores.cleanup(), () => admin?.quit(), () => redis?.destroy()));

  /** Calls per command Redis ran during `op`, scripts' own calls included (not the script call itself). */
  async function commandsRunBy(op: () => Promise<unknown>): Promise<Record<string, number>> {
    await admin.config('RESETSTAT');
    await op();
    const stats = await admin.info('commandstats');
    const calls: Record<string, number> = {};
    for (const m of stats.matchAll(/^cmdstat_([a-z|_-]+):calls=(\d+)/gm)) {
      const command = m[1]!.toUpperCase();
      if (['CONFIG|RESETSTAT', 'CONFIG', 'INFO', 'EVALSHA', 'EVAL', 'SCRIPT|LOAD', 'SCRIPT'].includes(command)) continue;
      calls[command] = Number(m[2]);
    }
    return calls;
  }

  /** A store on its own prefix and clock, holding `size` available tokens. */
  async function pool(size: number): Promise<{ store: TokenPoolStore; clock: TestClock }> {
    const clock = createTestClock();
    const store = stores.make(clock.now);
    for (let from = 0; from < size; from += 1000) {
      const tokens = Array.from({ length: Math.min(1000, size - from) }, (_, i) => `tok-${from + i}`);
      const added = await store.addTokens(tokens, { maxTokens: 20_000, keepAliveMs: TIMINGS.keepAliveMs });
      expect(added, JSON.stringify(added)).to.deep.include({ ok: true });
    }
    return { store, clock };
  }

  /** The Redis commands of each operation, in a fixed sequence, on a pool of `size` tokens. */
  async function costs(size: number): Promise<Record<string, Record<string, number>>> {
    const { store, clock } = await pool(size);
    const out: Record<string, Record<string, number>> = {};
    let token = '';
    out.assign = await commandsRunBy(async () => {
      const r = await store.assign('alice', TIMINGS, HOLDER_LIMIT);
      if (!r.ok) throw new Error(`no assignment: ${r.reason}`);
      token = r.value.token;
    });
    out.getToken = await commandsRunBy(() => store.getToken(token));
    out.keepAlive = await commandsRunBy(() => store.keepAlive(token, alice, TIMINGS));
    out.unblock = await commandsRunBy(async () => expect(await store.unblock(token, alice)).to.deep.include({ ok: true }));
    out.counts = await commandsRunBy(() => store.counts());
    out.sweepNothingDue = await commandsRunBy(() => store.sweep(100));
    for (let i = 0; i < 5; i++) expect(await store.assign(`user-${i}`, TIMINGS, HOLDER_LIMIT)).to.deep.include({ ok: true });
    clock.advance(TIMINGS.assignTtlMs + 1);
    out.sweepFiveDue = await commandsRunBy(async () => expect((await store.sweep(100)).released).to.have.length(5));
    out.remove = await commandsRunBy(() => store.remove(token));
    return out;
  }

  it('when each operation runs on a pool of 10,000 tokens, Redis runs the same commands as many times as on 20', async function () {
    this.timeout(60_000);
    const small = await costs(20);
    const large = await costs(10_000);

    expect(large, `20 tokens: ${JSON.stringify(small)}\n10,000 tokens: ${JSON.stringify(large)}`).to.deep.equal(small);
    // The measure sees the scripts' own commands: an assignment reads and writes several keys.
    expect(Object.values(small.assign!).reduce((a, b) => a + b, 0)).to.be.at.least(5);
    for (const [op, calls] of Object.entries(large)) {
      const unexpected = Object.keys(calls).filter((c) => !CONSTANT_OR_LOG.has(c) && !WITH_LIMIT.has(c));
      expect(unexpected, `${op} ran ${JSON.stringify(calls)}`).to.deep.equal([]);
    }
  });
});
