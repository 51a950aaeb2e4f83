/**
 * The security headers helmet sets (its defaults, as akm uses it), and which of them an answer lacks.
 */

/** Header name → a check of its value. */
const EXPECTED: Record<string, (v: string) => boolean> = {
  'content-security-policy': (v) => v.includes("default-src 'self'"),
  'strict-transport-security': (v) => v.startsWith('max-age='),
  'x-content-type-options': (v) => v === 'nosniff',
  'x-frame-options': (v) => v === 'SAMEORIGIN',
  'referrer-policy': (v) => v === 'no-referrer',
  'cross-origin-opener-policy': (v) => v === 'same-origin',
  'cross-origin-resource-policy': (v) => v === 'same-origin',
  'x-dns-prefetch-control': (v) => v === 'off',
  'x-download-options': (v) => v === 'noopen',
  'x-permitted-cross-domain-policies': (v) => v === 'none',
  'origin-agent-cluster': (v) => v === '?1',
  'x-xss-protection': (v) => v === '0',
};

/** The security headers missing or wrong in `headers` (lower-case names), and `x-powered-by` if present. */
export function securityHeaderProblems(headers: Record<string, string | string[] | undefined> | Headers): string[] {
  const get = (name: string) => (headers instanceof Headers ? (headers.get(name) ?? undefined) : headers[name]);
  const problems = Object.entries(EXPECTED)
    .filter(([name, ok]) => {
      const v = get(name);
      return v === undefined || !ok(String(v));
    })
    .map(([name]) => name);
  if (get('x-powered-by') !== undefined) problems.push('x-powered-by present');
  return problems;
}
