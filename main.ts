/**
 * `npm start` (`node dist/main.js`): the whole system in one process on its embedded default.
 * SQLite in the data directory; the in-process event bus unless `NATS_URL` is set; memory rate
 * counting unless `REDIS_URL` is set. For real deployments run `issuer/dist/main.js` and
 * `verifier/dist/main.js` (as many as you like) against NATS and Redis.
 */
import { createLogger, runMain } from '@akm/common';
import { issuerOptionsFromEnv, loadIssuerEnv, startIssuer } from '@akm/issuer';
import { createVerifierRuntime, loadVerifierEnv, verifierRuntimeOptionsFromEnv } from '@akm/verifier/service';

runMain('akm', async () => {
  const env = loadIssuerEnv(process.env);
  const logger = createLogger({ name: 'akm', level: env.LOG_LEVEL });
  const issuer = await startIssuer(issuerOptionsFromEnv(env, logger.child({ component: 'issuer' })));

  // The verifier reads the same variables; ISSUER_URL defaults to the issuer started above.
  // `||`, not a spread default: a variable set but empty (a sourced .env) means "use the default".
  const venv = loadVerifierEnv({ ...process.env, ISSUER_URL: process.env.ISSUER_URL || issuer.url }, { embedded: true });
  const verifier = await createVerifierRuntime({
    ...verifierRuntimeOptionsFromEnv(venv),
    ...(issuer.memoryBus ? { feed: issuer.memoryBus.createFeed() } : {}),
    ...(issuer.usagePublisher ? { usage: issuer.usagePublisher } : {}),
    logger: logger.child({ component: 'verifier' }),
  });
  await verifier.service.ready;

  process.stdout.write(
    [
      '',
      `akm is running`,
      `  issuer    ${issuer.url}   (admin API, sign-in, JWKS, token pool)`,
      `  verifier  ${verifier.service.url}   (GET /price, GET /key/info)`,
      `  events    ${issuer.memoryBus ? 'in-process bus (set NATS_URL for JetStream)' : `JetStream at ${env.NATS_URL}`}`,
      `  counting  ${venv.REDIS_URL ? `Redis at ${venv.REDIS_URL}` : 'in memory (set REDIS_URL to share limits)'}`,
      '',
      'Get an admin token:  npx akm admin-token --save     (or: npx akm login admin)',
      '',
    ].join('\n'),
  );

  return {
    logger,
    async stop() {
      await verifier.stop();
      await issuer.stop();
    },
  };
});
