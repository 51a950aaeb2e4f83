/**
 * `node verifier/dist/main.js` (`npm run start:verifier`): a standalone verifier service,
 * configured from the environment, until SIGTERM or SIGINT; SIGHUP re-reads `AKM_JWKS_FILE`.
 */
import { createLogger, runMain } from '@akm/common';
import { createVerifierRuntime, loadVerifierEnv, verifierRuntimeOptionsFromEnv } from './service/index.js';

runMain('verifier', async () => {
  const env = loadVerifierEnv(process.env);
  const logger = createLogger({ name: 'verifier', level: env.LOG_LEVEL });
  const runtime = await createVerifierRuntime({ ...verifierRuntimeOptionsFromEnv(env), logger });
  return { logger, stop: runtime.stop, reload: runtime.reload };
});
