/**
 * The verifier package's version, for the OpenAPI document: read from its package.json, which
 * sits two levels up from both `src/service` and `dist/service`.
 */
import { readFileSync } from 'node:fs';

/** The `version` of `@akm/verifier`. */
export const VERIFIER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
