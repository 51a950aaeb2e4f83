import { startRedis, type TestServer } from '../../../test/support/processes.js';
import { describePoolStoreContract } from './pool-store-contract.js';
import { redisStores } from './pool-test-support.js';

let redis: TestServer;
const stores = redisStores(() => redis.url);
describe('Redis pool store', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    stores.cleanup();
    await redis?.destroy();
  });
  describePoolStoreContract('Redis', (now) => stores.make(now));
});
