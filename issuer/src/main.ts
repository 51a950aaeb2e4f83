/**
 * `node issuer/dist/main.js` (`npm run start:issuer`): the issuer alone, configured from the
 * environment, until SIGTERM or SIGINT.
 */
import { checkPortsFree, createLogger, runMain } from '@akm/common';
import { issuerOptionsFromEnv, loadIssuerEnv } from './config.js';
import { startIssuer } from './issuer.js';

runMain('akm-issuer', async () => {
  const env = loadIssuerEnv(process.env);
  // Before anything is created: a busy port must not cost the first admin's password.
  await checkPortsFree([{ variable: 'ISSUER_PORT', port: env.ISSUER_PORT, host: env.AKM_HOST }]);
  const logger = createLogger({ name: 'akm-issuer', level: env.LOG_LEVEL });
  const issuer = await startIssuer(issuerOptionsFromEnv(env, logger));
  return { logger, stop: issuer.stop };
});
