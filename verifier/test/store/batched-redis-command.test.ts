import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedis, type TestServer } from '../../../test/support/processes.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/index.js';
import { batchCommand } from '../../src/store/batched-redis-command.js';

describe('verifier: Redis calls batched per event-loop turn', () => {
  let server: TestServer;
  let redis: Redis;

  beforeEach(async () => {
    server = await startRedis();
    redis = new Redis(server.url, REDIS_CLIENT_OPTIONS);
    redis.on('error', () => {});
    await new Promise((resolve) => redis.once('ready', resolve));
  });
  afterEach(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('when 200 calls are made in one turn, sends them as one pipeline and gives each call its own answer', async () => {
    const key = `batch-${randomUUID()}`;
    const batched = batchCommand(redis, 'incr');
    const writes: number[] = [];
    const write = redis.stream.write.bind(redis.stream);
    redis.stream.write = ((chunk: unknown, ...rest: never[]) => {
      writes.push(1);
      return write(chunk as string, ...rest);
    }) as typeof redis.stream.write;

    const answers = await Promise.all(Array.from({ length: 200 }, () => batched.incr(key)));

    expect([...answers].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(writes.length).to.equal(1);
    expect(await redis.get(key)).to.equal('200');
  });

  it('when one call in a batch fails, only that call is refused', async () => {
    const key = `batch-${randomUUID()}`;
    await redis.set(`${key}:text`, 'not a number');
    const batched = batchCommand(redis, 'incr');

    const [ok, failed] = await Promise.allSettled([batched.incr(key), batched.incr(`${key}:text`)]);

    expect(ok).to.deep.equal({ status: 'fulfilled', value: 1 });
    expect(failed.status).to.equal('rejected');
  });

  it('when Redis is down, every queued call is refused quickly instead of waiting', async () => {
    const batched = batchCommand(redis, 'incr');
    await server.kill();
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();

    const results = await Promise.allSettled(Array.from({ length: 10 }, () => batched.incr('k')));

    expect(results.every((r) => r.status === 'rejected')).to.equal(true);
    expect(Date.now() - started).to.be.below(1000);
  });

  it('leaves every other member of the client as it was', async () => {
    const batched = batchCommand(redis, 'incr');
    expect(batched.status).to.equal('ready');
    expect(await batched.set('plain', 'v')).to.equal('OK');
    expect(await batched.get('plain')).to.equal('v');
  });
});
