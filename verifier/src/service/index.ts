/**
 * `@akm/verifier/service`: the verifier as a service of its own (the demo `/price` route,
 * `/key/info`, operations routes, configuration from the environment). A service that only
 * guards its own routes needs `@akm/verifier` alone.
 *
 * @example
 * import { createVerifierRuntime } from '@akm/verifier/service';
 * const { service, stop } = await createVerifierRuntime({ issuerUrl: 'http://issuer:8080', natsUrl: 'nats://nats:4222' });
 */
export type { KeyInfo } from './key-info-route.js';
export type { RunningVerifier, VerifierServiceOptions } from './start-service.js';
export { createVerifierRuntime, verifierRuntimeOptionsFromEnv } from './runtime.js';
export type { VerifierRuntime, VerifierRuntimeOptions } from './runtime.js';
export { loadVerifierEnv } from './config.js';
export { verifierOpenApi } from './openapi.js';
export { VERIFIER_VERSION } from './package-version.js';
export type { LoadVerifierEnvOptions, VerifierEnv } from './config.js';
