/**
 * Mocha root hooks of the PostgreSQL pass (`.mocharc.postgres.json`): the run's server is
 * stopped once every test is done.
 */
import { stopSharedPostgres } from './test-store.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedPostgres();
  },
};
