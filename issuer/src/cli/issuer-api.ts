/**
 * The CLI's client of the issuer: @akm/client's typed client (generated from the issuer's
 * OpenAPI document), with one rule for failures: a problem+json answer, an answer that is not
 * JSON, or an issuer out of reach becomes a {@link CliError} carrying its one-line message.
 */
import { createIssuerClient, type IssuerClient } from '@akm/client';
import { CliError } from './cli-error.js';

/** Options of {@link connectIssuer}. */
export interface IssuerApiOptions {
  url: string;
  token?: string;
}

/**
 * A client of the issuer at `url` whose calls either answer or throw a {@link CliError}: read
 * their `data` with {@link answerOf}.
 */
export function connectIssuer(options: IssuerApiOptions): IssuerClient {
  const client = createIssuerClient({ baseUrl: options.url, ...(options.token ? { token: options.token } : {}), timeoutMs: 10_000 });
  client.use({
    onError({ error }) {
      return new CliError(`cannot reach the issuer at ${options.url}: ${(error as Error).message}`);
    },
    async onResponse({ response }) {
      const empty = response.status === 204 || response.headers.get('content-length') === '0';
      const json = /[/+]json\b/.test(response.headers.get('content-type') ?? '');
      if (!empty && !json) {
        throw new CliError(`${options.url} answered ${response.status} with something other than JSON: is it an akm issuer?`);
      }
      if (response.ok) return undefined;
      const problem = (await response.clone().json().catch(() => undefined)) as { code?: unknown; detail?: unknown } | undefined;
      const code = typeof problem?.code === 'string' ? problem.code : undefined;
      const detail = typeof problem?.detail === 'string' ? problem.detail : response.statusText;
      throw new CliError(`${code ?? response.status}: ${detail}`, code ? { code } : {});
    },
  });
  return client;
}

/** The data of a call through {@link connectIssuer} (which throws on every failure). */
export async function answerOf<T>(pending: Promise<{ data?: T; response: Response }>): Promise<T> {
  return (await pending).data as T;
}
