/**
 * A minimal HTTP client over `node:http` with a keep-alive agent: the benchmark's own requests
 * (minting keys, revoking, polling) cost a fraction of a millisecond, which fetch does not.
 */
import { Agent, request } from 'node:http';

/** An answer, body read in full. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Options of one request. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  agent?: Agent;
  /** Milliseconds before the request is abandoned. Default 10 000. */
  timeoutMs?: number;
}

/** A keep-alive agent for the benchmark's own requests. */
export function createAgent(maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** Sends one request and reads the whole answer. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`timed out: ${options.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Parses a JSON answer, naming the request and status when it is not JSON. */
export function jsonOf<T>(answer: HttpAnswer): T {
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    throw new Error(`expected JSON, got HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
}
