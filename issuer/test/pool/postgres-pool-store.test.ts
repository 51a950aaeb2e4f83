import { createTestDatabase, startPostgres, type TestServer } from '../../../test/support/processes.js';
import { describePoolStoreContract } from './pool-store-contract.js';
import { postgresStores } from './pool-test-support.js';

let postgres: TestServer;
const stores = postgresStores();
describe('PostgreSQL pool store', function () {
  this.timeout(60_000);
  before(async () => {
    postgres = await startPostgres();
  });
  after(async () => {
    await stores.cleanup();
    await postgres?.destroy();
  });
  describePoolStoreContract('PostgreSQL', async (now) => stores.make(now, await createTestDatabase(postgres)));
});
