/**
 * What a benchmark starts, it stops: a scope owns child processes and servers and stops them in
 * reverse order, also when a section fails or the run is interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (the benchmark runs its children from there). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Options of a Node child: built JavaScript run by node, or a bench TypeScript file through tsx. */
export interface NodeChildOptions {
  /** For error messages. */
  name: string;
  /** Entry point, relative to the repository root. */
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** Extra Node flags (`--cpu-prof`, `--expose-gc`…). */
  nodeArgs?: string[];
  /** Where standard output goes: discarded (`/dev/null`, the default) or captured. */
  stdout?: 'null' | 'capture';
  /** Opens an IPC channel (`process.send`). */
  ipc?: boolean;
}

/** A running child process. */
export interface NodeChild {
  name: string;
  process: ChildProcess;
  /** Captured standard output (when asked) and the last 8 KB of standard error. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code once it exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Owns resources and releases them in reverse order. */
export interface Scope {
  /** Starts a Node child owned by this scope. */
  spawnNode(options: NodeChildOptions): NodeChild;
  /** Registers a release function (a server's `destroy`, a client's `quit`). */
  own(release: () => Promise<void> | void): void;
  /** Releases everything owned, newest first; never throws. */
  close(): Promise<void>;
}

/** Creates an empty scope. */
export function createScope(): Scope {
  const releases: (() => Promise<void> | void)[] = [];

  function spawnNode(options: NodeChildOptions): NodeChild {
    const loader = options.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const nodeArgs = [...loader, ...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])];
    const devNull = options.stdout === 'capture' ? undefined : openSync('/dev/null', 'w');
    const stdio: ('ignore' | 'pipe' | 'ipc' | number)[] = ['ignore', devNull ?? 'pipe', 'pipe'];
    if (options.ipc) stdio.push('ipc');
    const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio });
    if (devNull !== undefined) closeSync(devNull);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    const running = () => child.exitCode === null && child.signalCode === null;
    const handle: NodeChild = {
      name: options.name,
      process: child,
      output: () => ({ stdout, stderr }),
      exited,
      async stop(graceMs = 5000) {
        if (!running()) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
    releases.push(() => handle.stop());
    return handle;
  }

  return {
    spawnNode,
    own(release) {
      releases.push(release);
    },
    async close() {
      while (releases.length > 0) {
        const release = releases.pop()!;
        try {
          await release();
        } catch {
          // Releasing the rest matters more than one failure here.
        }
      }
    },
  };
}
