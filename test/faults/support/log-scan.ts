/**
 * Scans log files for credentials: the exact key strings, sign-in tokens and passwords the suite
 * handled, and anything shaped like a signed JWT, a PEM private key or a private JWK member.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Patterns no log line may match, whatever secret they hold. */
const SHAPES: [string, RegExp][] = [
  ['a signed JWT', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{40,}/],
  ['a PEM private key', /PRIVATE KEY-----/],
  ['a private JWK member', /"d"\s*:\s*"[A-Za-z0-9_-]{40,}"/],
];

/** One leak found. */
export interface Leak {
  file: string;
  line: number;
  what: string;
}

/** Scanner over a set of known secrets. */
export function createLogScanner(secrets: ReadonlyMap<string, string>) {
  // JWTs are matched by their signature segment: the part that makes a copy usable.
  const signatures = new Map<string, string>();
  const plain: [string, string][] = [];
  for (const [value, kind] of secrets) {
    const parts = value.split('.');
    if (parts.length === 3 && parts[2]!.length >= 40) signatures.set(parts[2]!, kind);
    else plain.push([value, kind]);
  }

  /** What secret or credential shape `line` contains, if any. */
  function inspectLine(line: string): string | undefined {
    for (const [what, shape] of SHAPES) if (shape.test(line)) return what;
    for (const run of line.match(/[A-Za-z0-9_-]{40,}/g) ?? []) {
      const kind = signatures.get(run);
      if (kind) return kind;
    }
    for (const [value, kind] of plain) if (line.includes(value)) return kind;
    return undefined;
  }

  /** Scans every `*.log` file of `dir`; resolves to the leaks and how many lines were read per file. */
  async function scanDir(dir: string): Promise<{ leaks: Leak[]; lines: Record<string, number> }> {
    const leaks: Leak[] = [];
    const lines: Record<string, number> = {};
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
      let n = 0;
      const rl = createInterface({ input: createReadStream(join(dir, file), 'utf8'), crlfDelay: Infinity });
      for await (const line of rl) {
        n++;
        const what = inspectLine(line);
        if (what && leaks.length < 50) leaks.push({ file, line: n, what });
      }
      lines[file] = n;
    }
    return { leaks, lines };
  }

  return { inspectLine, scanDir };
}
