/**
 * Runs the real `akm` binary as a child process against a real test issuer, each run with
 * its own environment: AKM_URL, AKM_DATA_DIR and a throwaway AKM_CONFIG_DIR.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const BIN = fileURLToPath(new URL('../../bin/akm.js', import.meta.url));

/** What one run of the CLI did. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
}

/** A test issuer and a way to run the CLI against it. */
export interface CliHarness {
  issuer: TestIssuer;
  /** The AKM_CONFIG_DIR runs use unless `env` names another. */
  config: string;
  akm(args: string[], options?: RunOptions): Promise<CliRun>;
  /** A fresh config directory (so a fresh sign-in), removed by `destroy`. */
  freshConfig(): string;
  destroy(): Promise<void>;
}

/** Starts an issuer and the harness around it. */
export async function startCliHarness(): Promise<CliHarness> {
  const issuer = await startTestIssuer();
  const dirs: string[] = [];
  const freshConfig = () => {
    const dir = mkdtempSync(join(tmpdir(), 'akm-cli-'));
    dirs.push(dir);
    return dir;
  };
  const config = freshConfig();
  return {
    issuer,
    config,
    freshConfig,
    akm: (args, options = {}) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          env: { PATH: process.env.PATH ?? '', AKM_URL: issuer.url, AKM_CONFIG_DIR: config, AKM_DATA_DIR: issuer.dataDir, ...options.env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.end(options.stdin ?? '');
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      }),
    async destroy() {
      await issuer.destroy();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The JSON a run printed, after asserting that it succeeded. */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  expect(run.code, `exit code; stderr: ${run.stderr}`).to.equal(0);
  return JSON.parse(run.stdout) as T;
}

/** Asserts that a run failed with exactly one line on stderr and nothing on stdout; returns that line. */
export function oneLineFailure(run: CliRun, exitCode: number): string {
  expect(run.code, `exit code; stderr: ${run.stderr}`).to.equal(exitCode);
  expect(run.stdout, 'stdout').to.equal('');
  expect(run.stderr, 'stderr').to.match(/^akm: [^\n]+\n$/);
  return run.stderr.trimEnd();
}

/** A URL where nothing listens: a port the OS just handed out and that was closed again. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
