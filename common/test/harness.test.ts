import { expect } from 'chai';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { startNats, startRedis, type TestServer } from '../../test/support/processes.js';
import { connectNats, ensureKeyStream } from '../src/nats.js';
import { jetstreamManager } from '@nats-io/jetstream';

describe('test harness', () => {
  let nats: TestServer;
  let redis: TestServer;
  before(async () => {
    nats = await startNats();
    redis = await startRedis();
  });
  after(async () => {
    await nats?.destroy();
    await redis?.destroy();
  });

  it('starts a nats-server with JetStream that survives a kill and restart with its data', async () => {
    const nc = await connectNats({ url: nats.url, name: 'harness-test' });
    await ensureKeyStream(nc, { maxAgeSeconds: 3600, stream: 'H1', subjects: 'h1.*' });
    await nc.close();
    await nats.kill();
    await nats.start();
    const nc2 = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc2)).streams.info('H1');
    expect(info.config.max_msgs_per_subject).to.equal(1);
    await nc2.close();
  });

  it('starts a redis-server that answers and can be stopped and started', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    expect(await client.ping()).to.equal('PONG');
    client.disconnect();
    await redis.stop();
    await redis.start();
    const again = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    expect(await again.ping()).to.equal('PONG');
    again.disconnect();
  });
});
