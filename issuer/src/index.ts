/**
 * `@akm/issuer`: the issuer service, for the process that runs it beside a verifier
 * (`npm start`). Its own process is `dist/main.js`; its CLI is the `akm` bin.
 */
export { startIssuer } from './issuer.js';
export type { IssuerOptions, RunningIssuer } from './issuer.js';
export { issuerOptionsFromEnv, loadIssuerEnv } from './config.js';
export { issuerOpenApi, ISSUER_VERSION } from './http/openapi.js';
export type { IssuerEnv } from './config.js';
