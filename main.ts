/**
 * `npm start` (`node dist/main.js`): the whole system in one process on its embedded default.
 * SQLite in the data directory; the in-process event bus unless `NATS_URL` is set; memory rate
 * counting unless `REDIS_URL` is set. For real deployments run `issuer/dist/main.js` and
 * `verifier/dist/main.js` (as many as you like) against NATS and Redis.
 */
import { resolve } from 'node:path';
import { checkPortsFree, createLogger, runMain } from '@akm/common';
import { issuerOptionsFromEnv, loadIssuerEnv, startIssuer } from '@akm/issuer';
import { createVerifierRuntime, loadVerifierEnv, verifierRuntimeOptionsFromEnv } from '@akm/verifier/service';

/** What the CLI assumes when given nothing: `./data` and the issuer on port 8080. */
const CLI_DEFAULT_DATA_DIR = resolve('data');
const CLI_DEFAULT_URL = 'http://127.0.0.1:8080';

/** The CLI commands that get an admin sign-in for this issuer, as they must be typed. */
function signInHint(dataDir: string, url: string): string {
  const dir = resolve(dataDir) === CLI_DEFAULT_DATA_DIR ? '' : ` --data-dir ${resolve(dataDir)}`;
  const to = url === CLI_DEFAULT_URL ? '' : ` --url ${url}`;
  return `Get an admin token:  npx akm admin-token${dir} --save     (or: npx akm${to} login admin)`;
}

runMain('akm', async () => {
  const env = loadIssuerEnv(process.env);
  // The verifier reads the same variables; ISSUER_URL defaults to the issuer started below.
  // `||`, not a spread default: a variable set but empty (a sourced .env) means "use the default".
  const readVerifierEnv = (issuerUrl: string) =>
    loadVerifierEnv({ ...process.env, ISSUER_URL: process.env.ISSUER_URL || issuerUrl }, { embedded: true });
  const venv = readVerifierEnv(`http://${env.AKM_HOST}:${env.ISSUER_PORT}`);
  // Before anything is created: a busy port must not cost the first admin's password.
  await checkPortsFree([
    { variable: 'ISSUER_PORT', port: env.ISSUER_PORT, host: env.AKM_HOST },
    { variable: 'VERIFIER_PORT', port: venv.VERIFIER_PORT, host: venv.AKM_HOST },
  ]);

  const logger = createLogger({ name: 'akm', level: env.LOG_LEVEL });
  const issuer = await startIssuer(issuerOptionsFromEnv(env, createLogger({ name: 'akm-issuer', level: env.LOG_LEVEL })));
  const verifier = await createVerifierRuntime({
    ...verifierRuntimeOptionsFromEnv(readVerifierEnv(issuer.url)),
    ...(issuer.memoryBus ? { feed: issuer.memoryBus.createFeed() } : {}),
    ...(issuer.usagePublisher ? { usage: issuer.usagePublisher } : {}),
    logger: createLogger({ name: 'akm-verifier', level: venv.LOG_LEVEL }),
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
      signInHint(env.AKM_DATA_DIR, issuer.url),
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
