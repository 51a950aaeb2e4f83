import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { issuerEnvSchema } from '../../issuer/src/config.js';
import { DEFAULT_URL } from '../../issuer/src/cli/context.js';
import { verifierEnvSchema } from '../../verifier/src/service/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMAS: Record<string, z.ZodObject> = { issuer: issuerEnvSchema, verifier: verifierEnvSchema };
/** Code that reads variables outside the schemas: the CLI, the entry points, the test harness. */
const SOURCES = ['issuer/src', 'verifier/src', 'common/src', 'main.ts', 'test/support/processes.ts'];
/** Variables of the operating system, not akm's. */
const SYSTEM = new Set(['PATH', 'HOME']);

interface Entry {
  value: string;
  /** False for a commented-out `# NAME=example` line. */
  active: boolean;
}

function readExample(): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const line of readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    const match = active ?? commented;
    if (!match) continue;
    expect(entries.has(match[1]!), `${match[1]} appears twice`).to.equal(false);
    entries.set(match[1]!, { value: match[2]!, active: active !== null });
  }
  return entries;
}

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(full, f));
}

/** Every variable the code reads by name: `process.env.X`, `env.X` of a passed-in environment, `env['X']`. */
function variablesReadInSource(): Set<string> {
  const names = new Set<string>();
  for (const file of SOURCES.flatMap(filesUnder)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:process\.)?env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) {
      const name = m[1] ?? m[2]!;
      if (!SYSTEM.has(name)) names.add(name);
    }
  }
  return names;
}

const schemaNames = () => new Set(Object.values(SCHEMAS).flatMap((s) => Object.keys(s.shape)));

/** The schema fields of `name`, one per schema that accepts it. */
function fieldsOf(name: string): Array<[schema: string, field: z.ZodType]> {
  return Object.entries(SCHEMAS)
    .filter(([, s]) => name in s.shape)
    .map(([schema, s]) => [schema, s.shape[name] as z.ZodType]);
}

describe('.env.example', () => {
  it('names every variable the issuer and verifier config schemas accept', () => {
    const listed = readExample();
    const missing = [...schemaNames()].filter((n) => !listed.has(n));
    expect(missing, 'add these to .env.example').to.deep.equal([]);
  });

  it('names every variable the code reads from the environment by name (CLI, entry points, test harness)', () => {
    const listed = readExample();
    const read = variablesReadInSource();
    expect(read.has('AKM_URL') && read.has('AKM_CONFIG_DIR'), 'the source scan finds the CLI variables').to.equal(true);
    const missing = [...read].filter((n) => !listed.has(n));
    expect(missing, 'add these to .env.example').to.deep.equal([]);
  });

  it('names no variable that nothing reads', () => {
    const read = new Set([...schemaNames(), ...variablesReadInSource()]);
    const stale = [...readExample().keys()].filter((n) => !read.has(n));
    expect(stale, 'nothing reads these').to.deep.equal([]);
  });

  it("writes each schema default as the schema's default, and keeps a variable without one commented out", () => {
    const listed = readExample();
    for (const name of schemaNames()) {
      const entry = listed.get(name)!;
      for (const [schema, field] of fieldsOf(name)) {
        const fallback = field.parse(undefined);
        if (fallback === undefined) {
          // Set but empty, it would override `npm start`'s own choice (e.g. ISSUER_URL) and break the CLI.
          expect(entry.active, `${name} has no default in the ${schema} schema: write it as "# ${name}=example"`).to.equal(false);
        } else {
          expect(entry.active, `${name} has a default in the ${schema} schema: write it as ${name}=${String(fallback)}`).to.equal(true);
          expect(field.parse(entry.value), `${name}=${entry.value} vs the ${schema} schema's default`).to.deep.equal(fallback);
        }
      }
    }
  });

  it('keeps the variables outside the schemas commented out, with the CLI default URL where it gives one', () => {
    const listed = readExample();
    const outside = [...variablesReadInSource()].filter((n) => !schemaNames().has(n));
    for (const name of outside) expect(listed.get(name)?.active, `${name} must be commented out`).to.equal(false);
    expect(listed.get('AKM_URL')?.value).to.equal(DEFAULT_URL);
  });

  it('sourced with `set -a; . ./.env.example`, configures the issuer and the verifier exactly as an empty environment does', () => {
    const dump = (script: string) =>
      JSON.parse(
        execFileSync('sh', ['-c', `${script} exec "${process.execPath}" -e 'process.stdout.write(JSON.stringify(process.env))'`], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '' },
          encoding: 'utf8',
        }),
      ) as Record<string, string>;
    const bare = dump('');
    const sourced = dump('set -a; . ./.env.example; set +a;');
    const added = Object.keys(sourced).filter((n) => !(n in bare));
    expect(added.length, 'sourcing sets the variables').to.be.greaterThan(10);
    for (const [schema, s] of Object.entries(SCHEMAS)) {
      expect(s.parse(sourced), `the ${schema} configuration`).to.deep.equal(s.parse({}));
    }
    const notInSchemas = added.filter((n) => !schemaNames().has(n));
    expect(notInSchemas, 'sourcing must not set these').to.deep.equal([]);
  });
});
