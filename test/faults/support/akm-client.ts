/**
 * Small HTTP helpers over the issuer's and verifier's real APIs for the fault suite. Every key
 * string and sign-in token they see is remembered as a secret for the log scan of case 9.
 */
import { expect } from 'chai';
import { ADMIN_PASSWORD, rememberSecret } from './run.js';

/** An answer, its body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

/** `HTTP <status>: <body>`, for failure messages. */
export const shown = (a: Answer): string => `HTTP ${a.status}: ${a.text.slice(0, 500)}`;

/** One request; never throws on an HTTP status, only when the server cannot be reached. */
export async function call(
  url: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the text is there for the failure message
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A minted key. */
export interface MintedKey {
  id: string;
  key: string;
}

/** The issuer's admin API with one sign-in. */
export interface IssuerAdmin {
  token: string;
  mint(options?: { sub?: string; rateLimit?: number }): Promise<MintedKey>;
  /** DELETE /admin/keys/:id; asserts 204. */
  revoke(id: string): Promise<void>;
  readyz(): Promise<Answer>;
}

/** Signs in as `admin` (with the suite's password) and returns the admin API. */
export async function signInAdmin(issuerUrl: string): Promise<IssuerAdmin> {
  const login = await call(issuerUrl, '/auth/login', { method: 'POST', body: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status, shown(login)).to.equal(200);
  const token = String(login.body.token);
  rememberSecret(token, 'admin sign-in token');
  return {
    token,
    async mint({ sub = 'fault-tester', rateLimit = 1000 } = {}) {
      const res = await call(issuerUrl, '/admin/keys', { method: 'POST', token, body: { sub, rateLimit } });
      expect(res.status, shown(res)).to.equal(201);
      const minted = { id: String(res.body.id), key: String(res.body.key) };
      rememberSecret(minted.key, 'API key');
      return minted;
    },
    async revoke(id) {
      const res = await call(issuerUrl, `/admin/keys/${id}`, { method: 'DELETE', token });
      expect(res.status, shown(res)).to.equal(204);
    },
    readyz: () => call(issuerUrl, '/readyz'),
  };
}

/** `GET /price?symbol=BTC` at a verifier with `key`. */
export const price = (verifierUrl: string, key: string): Promise<Answer> => call(verifierUrl, '/price?symbol=BTC', { token: key });

/** True when `verifierUrl` refuses `key` as revoked. */
export async function refusesAsRevoked(verifierUrl: string, key: string): Promise<boolean> {
  const res = await price(verifierUrl, key);
  return res.status === 401 && res.body.code === 'key_revoked';
}

/**
 * Asks `verifierUrl` about every key, `concurrency` at a time, and returns those it does not
 * (yet) refuse as revoked, with the answer it gave.
 */
export async function notYetRevoked(verifierUrl: string, keys: MintedKey[], concurrency = 20): Promise<{ key: MintedKey; answer: Answer }[]> {
  const left: { key: MintedKey; answer: Answer }[] = [];
  for (let i = 0; i < keys.length; i += concurrency) {
    const batch = keys.slice(i, i + concurrency);
    const answers = await Promise.all(batch.map((k) => price(verifierUrl, k.key)));
    answers.forEach((answer, j) => {
      if (!(answer.status === 401 && answer.body.code === 'key_revoked')) left.push({ key: batch[j]!, answer });
    });
  }
  return left;
}

/** Runs `work` over `items`, `size` at a time. */
export async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

/**
 * Waits until every verifier refuses every key as revoked; resolves to how long that took (ms).
 * On timeout, fails naming what each verifier still accepts, and how it answered.
 */
export async function untilRevokedEverywhere(verifierUrls: string[], keys: MintedKey[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const left = await Promise.all(verifierUrls.map((url) => notYetRevoked(url, keys)));
    if (left.every((l) => l.length === 0)) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) {
      const readyz = await Promise.all(verifierUrls.map((url) => call(url, '/readyz').then(shown, (err: Error) => err.message)));
      const report = left.map(
        (l, i) => `${verifierUrls[i]}: ${l.length} of ${keys.length} not refused, e.g. ${l[0] ? shown(l[0].answer) : '-'}; /readyz ${readyz[i]}`,
      );
      throw new Error(`revocations not refused everywhere within ${timeoutMs} ms:\n${report.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The event bus state (`connected`, `disconnected`, `in-process`) in an issuer's `/readyz` answer. */
export function eventBusState(answer: Answer): string | undefined {
  return (answer.body.dependencies as { eventBus?: { state?: string } } | undefined)?.eventBus?.state;
}
