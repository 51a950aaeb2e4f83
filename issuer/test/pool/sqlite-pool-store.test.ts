import { describePoolStoreContract } from './pool-store-contract.js';
import { sqliteStores } from './pool-test-support.js';

const stores = sqliteStores();
after(() => stores.cleanup());
describePoolStoreContract('SQLite', (now) => stores.make(now));
