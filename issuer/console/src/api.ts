/**
 * The console's client of the issuer's public REST API, with the tab's sign-in token. A
 * problem+json answer becomes an {@link ApiError} with its stable code; an expired or revoked
 * sign-in sends the user back to the sign-in page.
 */
import { clearSession, currentSession } from './session.js';

/** An answer of the API that was not a success. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API sits at the issuer's root; the console at `<root>/console/`. */
const ROOT = new URL('../', location.href.split('#')[0]);

/** Called when the sign-in is no longer accepted. */
let onSignedOut: (reason: string) => void = () => {};
export function whenSignedOut(handler: (reason: string) => void): void {
  onSignedOut = handler;
}

/** Calls the API; resolves to the parsed JSON body (undefined for 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const session = currentSession();
  if (session) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path.replace(/^\//, ''), ROOT), {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  if (res.ok) return data as T;
  const code = typeof data?.code === 'string' ? data.code : String(res.status);
  const detail = typeof data?.detail === 'string' ? data.detail : res.statusText;
  if (session && (code === 'invalid_token' || code === 'token_expired')) {
    clearSession();
    onSignedOut(code === 'token_expired' ? 'Your sign-in expired: sign in again.' : 'Your sign-in is no longer valid: sign in again.');
  }
  throw new ApiError(res.status, code, detail);
}

/** A query string of the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
