/**
 * The CLI's client of the issuer's REST API. A problem+json answer becomes a {@link CliError}
 * carrying its one-line message.
 */

/** An error the CLI prints as one line before exiting non-zero. */
export class CliError extends Error {
  /** The issuer's problem code (`not_found`, `forbidden`, …), when the issuer refused. */
  readonly code: string | undefined;

  constructor(message: string, options: { code?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = options.code;
  }
}

/** Options of {@link createApiClient}. */
export interface ApiClientOptions {
  url: string;
  token?: string;
}

/** A minimal JSON client of the issuer. */
export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Creates the client. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(new URL(path, options.url), {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw new CliError(`cannot reach the issuer at ${options.url}: ${(err as Error).message}`);
      }
      const text = await res.text();
      let data: Record<string, unknown> | undefined;
      try {
        data = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        throw new CliError(`${options.url} answered ${res.status} with something other than JSON: is it an akm issuer?`);
      }
      if (!res.ok) {
        const code = typeof data?.code === 'string' ? data.code : undefined;
        const detail = typeof data?.detail === 'string' ? data.detail : res.statusText;
        throw new CliError(`${code ?? res.status}: ${detail}`, { code });
      }
      return data as T;
    },
  };
}
