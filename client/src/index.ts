/**
 * `@akm/client`: typed clients of the akm issuer and verifier APIs. The types are generated
 * (`npm run openapi`) from the OpenAPI documents the services build from their own route
 * schemas; the calls are openapi-fetch's: `{ data }` on success, `{ error }` (the problem+json
 * body) otherwise, and a rejected promise only when the server cannot be reached.
 *
 * @example
 * import { createIssuerClient } from '@akm/client';
 * const issuer = createIssuerClient({ baseUrl: 'http://127.0.0.1:8080', token: signInToken });
 * const { data, error } = await issuer.POST('/admin/keys', { body: { sub: 'alice', rateLimit: 100 } });
 * if (error) throw new Error(`${error.code}: ${error.detail}`);
 * console.log(data.key); // shown this once
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components as IssuerComponents, paths as IssuerPaths } from './issuer-api.js';
import type { components as VerifierComponents, paths as VerifierPaths } from './verifier-api.js';

export type { IssuerPaths, VerifierPaths };
/** The issuer's named schemas (`Key`, `User`, `Problem`, …). */
export type IssuerSchemas = IssuerComponents['schemas'];
/** The verifier's named schemas (`VerifyAnswer`, `KeyInfo`, `Problem`, …). */
export type VerifierSchemas = VerifierComponents['schemas'];
/** An RFC 9457 problem, as both services answer errors. */
export type Problem = IssuerSchemas['Problem'];
export type { Middleware };

/** Options of a client. */
export interface AkmClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`: a sign-in token or an API key. */
  token?: string;
  /** Milliseconds before a request is abandoned. Default 10 000. */
  timeoutMs?: number;
}

/** A typed client of the issuer. */
export type IssuerClient = Client<IssuerPaths>;
/** A typed client of the verifier. */
export type VerifierClient = Client<VerifierPaths>;

function clientOptions(options: AkmClientOptions) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }),
  };
}

/** Creates a client of the issuer's API. */
export function createIssuerClient(options: AkmClientOptions): IssuerClient {
  return createClient<IssuerPaths>(clientOptions(options));
}

/** Creates a client of a verifier's API (`/v1/verify`, `/key/info`, …). */
export function createVerifierClient(options: AkmClientOptions): VerifierClient {
  return createClient<VerifierPaths>(clientOptions(options));
}
