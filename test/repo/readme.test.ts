/**
 * The README runs as written. Every ```sh block of README.md, in order, runs in one bash shell
 * opened at the repository root, against `npm start` (`node dist/main.js`) started fresh on a
 * temporary data directory, as a new user's first start. Blocks preceded by a
 * `<!-- readme-test: skip (why) -->` line are not run (they install, or start other processes).
 *
 * What the test changes, mechanically:
 * - `localhost:8080` and `localhost:8081` become the free ports npm start was given
 *   (`ISSUER_PORT`, `VERIFIER_PORT`), so that the test never needs the default ports.
 * - The shell has `AKM_DATA_DIR` (npm start's temporary data directory: what `./data` is in a
 *   checkout), `AKM_CONFIG_DIR` (a temporary one, for the CLI's saved sign-in) and
 *   `AKM_PASSWORD` (the first admin's password as npm start printed it, which is how the CLI's
 *   password prompt is answered without a terminal, as the README documents).
 * - `curl` fails on an HTTP error (a function adding `--fail-with-body`), and the shell stops at
 *   the first failing command (`set -euo pipefail`): an example that stops working fails here.
 * Nothing else: no placeholder (`…`, `<id>`) may appear outside a comment of a block that runs.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENTRY_POINTS } from '../support/entry-points.js';
import { freePort, waitFor } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP = /^<!-- readme-test: skip \(.+\) -->$/;

interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
}

/** The ```sh blocks of the README that run, in order. */
function runnableBlocks(markdown: string): { run: Block[]; skipped: Block[] } {
  const lines = markdown.split('\n');
  const run: Block[] = [];
  const skipped: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    expect(end, `unclosed block at README.md:${i + 1}`).to.be.greaterThan(i);
    const block = { line: i + 1, text: lines.slice(i + 1, end).join('\n') };
    (SKIP.test(lines[i - 1] ?? '') ? skipped : run).push(block);
    i = end;
  }
  return { run, skipped };
}

/** A block's text without its comments: what the shell executes. */
const executed = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, ''))
    .join('\n');

describe('README.md runs top to bottom as written', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let out = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-readme-'));
  });
  after(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('every sh block, in order, against a first npm start', async () => {
    const { run, skipped } = runnableBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(run.length, 'blocks that run').to.be.at.least(8);
    expect(skipped.length, 'blocks that are skipped').to.be.at.most(4);
    const all = run.map((b) => b.text).join('\n');
    for (const needed of ['curl -s localhost:8080/auth/login', 'npx akm login admin', 'localhost:8081/price', '/me/password', '/auth/logout', '/pool/assign']) {
      expect(all, `the README runs ${needed}`).to.include(needed);
    }
    for (const block of run) {
      expect(executed(block.text), `a placeholder outside a comment at README.md:${block.line}`).to.not.match(/…|<[a-z][a-z-]*>/);
    }

    const [issuerPort, verifierPort] = [await freePort(), await freePort()];
    const data = join(dir, 'data');
    const config = join(dir, 'config');
    const started = spawn(process.execPath, [ENTRY_POINTS.all], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ISSUER_PORT: String(issuerPort), VERIFIER_PORT: String(verifierPort), AKM_DATA_DIR: data, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    started.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('akm is running') || started.exitCode !== null, 30_000, 50);
    expect(out, 'npm start').to.include('akm is running');
    const password = /created user "admin" with password (\S+)/.exec(out)?.[1];
    expect(password, out).to.be.a('string');

    const script = [
      'set -euo pipefail',
      'set -x',
      'curl() { command curl --fail-with-body "$@"; }',
      ...run.map((b) => `: "### README.md:${b.line}"\n${b.text.replaceAll('localhost:8080', `localhost:${issuerPort}`).replaceAll('localhost:8081', `localhost:${verifierPort}`)}`),
    ].join('\n');
    const shell = spawnSync('bash', ['-c', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, AKM_DATA_DIR: data, AKM_CONFIG_DIR: config, AKM_PASSWORD: password! },
      encoding: 'utf8',
      timeout: 90_000,
    });
    const at = [...shell.stderr.matchAll(/### (README\.md:\d+)/g)].pop()?.[1];
    expect(shell.status, `failed in the block at ${at}:\n${shell.stderr.slice(-3000)}`).to.equal(0);
    expect(shell.stderr, 'every block ran').to.include(`### README.md:${run[run.length - 1]!.line}`);

    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    started.kill('SIGTERM');
    expect(await exited, out).to.equal(0);
    child = undefined;
  });
});
