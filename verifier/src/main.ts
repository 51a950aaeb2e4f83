/**
 * `node verifier/dist/main.js` (`npm run start:verifier`): a standalone verifier service,
 * configured from the environment, until SIGTERM or SIGINT; SIGHUP re-reads `AKM_JWKS_FILE`.
 */
import { checkPortsFree, createLogger, runMain } from '@akm/common';
import { createVerifierRuntime, loadVerifierEnv, verifierRuntimeOptionsFromEnv } from './service/index.js';

runMain('akm-verifier', async () => {
  const env = loadVerifierEnv(process.env);
  await checkPortsFree([{ variable: 'VERIFIER_PORT', port: env.VERIFIER_PORT, host: env.AKM_HOST }]);
  const logger = createLogger({ name: 'akm-verifier', level: env.LOG_LEVEL, buffered: true });
  const runtime = await createVerifierRuntime({ ...verifierRuntimeOptionsFromEnv(env), logger });
  return { logger, stop: runtime.stop, reload: runtime.reload };
});
