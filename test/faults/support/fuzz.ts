/**
 * The fuzzer of case 8: seeded (a failing run can be replayed), it sends random and mutated
 * `Authorization` headers, paths, query strings and JSON bodies to the endpoints it is given, over
 * node:http (which lets through any header value HTTP allows), and checks every answer.
 */
import { Agent, request } from 'node:http';
import { statusFor, type ErrorCode } from '@akm/common';
import { rememberSecret } from './run.js';

/** A small fast PRNG (mulberry32), so that a seed replays a run. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  return { next, int, pick, chars };
}
type Random = ReturnType<typeof createRandom>;

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const LATIN1 = PRINTABLE + Array.from({ length: 96 }, (_, i) => String.fromCharCode(160 + i)).join('');

/** One endpoint to fuzz: method and a path template (`:x` segments are filled in). */
export interface FuzzEndpoint {
  method: string;
  path: string;
  /** A valid body to mutate, for endpoints that take one. */
  body?: Record<string, unknown>;
}

/** What the fuzzer may use as credentials, besides garbage. */
export interface FuzzCredentials {
  /** Valid tokens (keys, sign-ins) to send as they are and to mutate. */
  valid: string[];
}

function mutateToken(r: Random, token: string): string {
  const parts = token.split('.');
  switch (r.int(9)) {
    case 0: {
      const i = r.int(token.length);
      return token.slice(0, i) + r.chars(B64URL, 1) + token.slice(i + 1);
    }
    case 1:
      return token.slice(0, r.int(token.length));
    case 2:
      return [parts[1], parts[0], parts[2]].join('.');
    case 3:
      return [Buffer.from('{"alg":"none","typ":"akm-key+jwt"}').toString('base64url'), parts[1], ''].join('.');
    case 4:
      return [Buffer.from('{"alg":"HS256","typ":"akm-key+jwt"}').toString('base64url'), parts[1], parts[2]].join('.');
    case 5:
      return `${parts[0]}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'admin', exp: 9e15 })).toString('base64url')}.${parts[2]}`;
    case 6:
      return token + token;
    case 7:
      return `${r.chars(B64URL, r.int(60))}.${r.chars(B64URL, r.int(200))}.${r.chars(B64URL, 86)}`;
    default:
      return token.replace(/[A-Za-z]/g, (c) => (r.next() < 0.02 ? c.toUpperCase() === c ? c.toLowerCase() : c.toUpperCase() : c));
  }
}

function authorization(r: Random, creds: FuzzCredentials): string | undefined {
  const token = creds.valid.length ? r.pick(creds.valid) : 'x.y.z';
  switch (r.int(12)) {
    case 0:
      return undefined;
    case 1:
      return r.pick(['', 'Bearer', 'Bearer ', 'bearer', 'Basic YWRtaW46YWRtaW4=', 'Bearer  ', 'Token abc', 'Bearer a b']);
    case 2:
      return `Bearer ${r.chars(LATIN1, r.int(300))}`;
    case 3:
      return r.chars(LATIN1, r.int(200));
    case 4:
      return `Bearer ${r.chars(B64URL, 8000 + r.int(4000))}`;
    case 5:
      return `bEaReR ${token}`;
    case 6:
    case 7:
      return `Bearer ${token}`;
    default:
      return `Bearer ${mutateToken(r, token)}`;
  }
}

const SEGMENTS = ['', '..', '%2e%2e', '%', '%zz', '%00', '%ff%fe', 'admin', 'ü', '%C3%BC', '~', 'a'.repeat(300), '.well-known', '%2F', 'null', '-1', '0'];

function path(r: Random, template: string): string {
  let p = template.replace(/:([a-z]+)/g, () =>
    r.pick(['x', 'admin', r.chars(B64URL, 1 + r.int(40)), 'pt_' + r.chars(B64URL, 20), r.chars(B64URL, 200), '%41', '..', '%00']),
  );
  const roll = r.int(10);
  if (roll === 0) p += `/${r.pick(SEGMENTS)}`;
  if (roll === 1) p = `/${r.pick(SEGMENTS)}${p}`;
  if (roll === 2) p = p.replaceAll('/', '//');
  if (roll === 3) p += `/${r.chars(B64URL + '%.', 1 + r.int(3000))}`;
  if (r.next() < 0.4) {
    const params = Array.from({ length: 1 + r.int(4) }, () => {
      const name = r.pick(['symbol', 'limit', 'cursor', 'status', 'sub', 'next', r.chars(B64URL, 5)]);
      const value = r.pick(['BTC', 'btc', '', '-1', '0', '1e9', 'NaN', '[]', '%', '%zz', r.chars(B64URL + '%', r.int(500)), 'active', 'revoked']);
      return `${name}=${value}`;
    });
    p += `?${params.join('&')}`;
  }
  return p;
}

/** Plausible field values; shared by every field, so one may be sent as a user name and as a password. */
const VOCABULARY = ['admin', 'user', 'active', 'disabled', 'revoked', '2030-01-01T00:00:00Z', 'not a date'];

function randomJson(r: Random, depth = 0): unknown {
  const roll = r.int(depth > 3 ? 6 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 60, 1_000_001]);
    case 3:
      return r.chars(LATIN1, r.int(50));
    case 4:
      return r.pick(VOCABULARY);
    case 5:
      return r.chars(PRINTABLE, 2000 + r.int(3000));
    case 6:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(6) }, () => [r.pick(['sub', 'role', 'rateLimit', 'ttl', 'expiresAt', 'name', 'meta', 'status', 'username', 'password', 'count', '__proto__', 'constructor', r.chars(B64URL, 6)]), randomJson(r, depth + 1)]),
      );
  }
}

function body(r: Random, valid?: Record<string, unknown>): { text: string; type?: string } | undefined {
  const roll = r.int(10);
  if (roll === 0) return undefined;
  if (roll === 1) return { text: r.pick(['{', '{"a":', 'null', '[]', '"x"', '{"sub":"a",}', '\u0000', 'true', '{"__proto__":{"admin":true}}']), type: 'application/json' };
  if (roll === 2) return { text: '['.repeat(2000 + r.int(3000)) + ']'.repeat(r.int(2)), type: 'application/json' };
  if (roll === 3) return { text: r.chars(LATIN1, r.int(500)), type: r.pick(['text/plain', 'application/json', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16']) };
  if (roll <= 6 || !valid) return { text: JSON.stringify(randomJson(r)), type: 'application/json' };
  const mutated: Record<string, unknown> = { ...valid };
  const field = r.pick([...Object.keys(valid), r.chars(B64URL, 6)]);
  if (r.next() < 0.3) delete mutated[field];
  else mutated[field] = randomJson(r);
  return { text: JSON.stringify(mutated), type: 'application/json' };
}

/** One answer of the fuzzer. */
export interface FuzzAnswer {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one raw request; resolves to the answer, or undefined when the connection failed. */
export function send(base: string, agent: Agent, method: string, p: string, headers: Record<string, string>, payload?: string): Promise<FuzzAnswer | undefined> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let req;
    try {
      req = request({ host: url.hostname, port: url.port, method, path: p, headers, agent, timeout: 15_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ method, path: p, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve(undefined));
      });
    } catch {
      return resolve({ method, path: p, status: -1, headers: {}, body: 'the client refused to send it' });
    }
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    if (payload !== undefined) req.write(payload, 'latin1');
    req.end();
  });
}

/** True for an answer of Node's HTTP parser rather than of akm (it never reached Express). */
export function isParserAnswer(a: FuzzAnswer): boolean {
  return (a.status === 400 || a.status === 431) && a.body === '' && a.headers['x-request-id'] === undefined;
}

/** What is wrong with an answer, or undefined when it is a documented one. */
export function undocumented(a: FuzzAnswer): string | undefined {
  if (a.status >= 500) return `5xx`;
  if (a.status < 400 || a.method === 'HEAD') return undefined;
  // Node's HTTP parser answers a request that is not valid HTTP (400) or whose header block is too
  // large (431) itself, before any akm code runs: no body, no request id. Counted apart.
  if (isParserAnswer(a)) return undefined;
  if (!String(a.headers['content-type'] ?? '').startsWith('application/problem+json')) return 'not problem+json';
  let problem: { code?: string; status?: number };
  try {
    problem = JSON.parse(a.body) as typeof problem;
  } catch {
    return 'body not JSON';
  }
  if (typeof problem.code !== 'string' || statusFor(problem.code as ErrorCode) !== a.status || problem.status !== a.status) {
    return `code ${problem.code} does not match status ${a.status}`;
  }
  return undefined;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  base: string;
  endpoints: FuzzEndpoint[];
  creds: FuzzCredentials;
  requests: number;
  seed: number;
  concurrency?: number;
  /** Called with every answer (e.g. to check headers). */
  onAnswer?: (a: FuzzAnswer) => void;
}

/** Runs the fuzzer; resolves to counts per status and the answers that broke a rule. */
export async function fuzz(options: FuzzOptions): Promise<{ statuses: Record<string, number>; bad: { why: string; answer: FuzzAnswer }[]; unreachable: number }> {
  const r = createRandom(options.seed);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 16 });
  const statuses: Record<string, number> = {};
  const bad: { why: string; answer: FuzzAnswer }[] = [];
  let unreachable = 0;
  let sent = 0;
  const worker = async () => {
    while (sent < options.requests) {
      sent++;
      const endpoint = r.next() < 0.9 ? r.pick(options.endpoints) : { method: r.pick(['GET', 'POST', 'PUT']), path: `/${r.chars(B64URL, 1 + r.int(30))}` };
      const method = r.next() < 0.85 ? endpoint.method : r.pick(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']);
      const headers: Record<string, string> = {};
      const auth = authorization(r, options.creds);
      if (auth !== undefined) headers.authorization = auth;
      if (r.next() < 0.1) headers['x-request-id'] = r.chars(LATIN1, r.int(300));
      const b = method === 'GET' || method === 'HEAD' ? (r.next() < 0.05 ? body(r) : undefined) : body(r, endpoint.body);
      if (b?.type) headers['content-type'] = b.type;
      const password = b?.text.match(/"password":"([^"]{12,})"/)?.[1];
      // A vocabulary word is no secret: it is also sent as a user name, which is logged.
      if (password && !VOCABULARY.includes(password)) rememberSecret(password, 'password sent by the fuzzer');
      const answer = await send(options.base, agent, method, path(r, endpoint.path), headers, b?.text);
      if (!answer) {
        unreachable++;
        continue;
      }
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      options.onAnswer?.(answer);
      const why = answer.status === -1 ? undefined : undocumented(answer);
      if (why) bad.push({ why, answer });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  agent.destroy();
  return { statuses, bad, unreachable };
}
