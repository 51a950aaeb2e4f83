/**
 * The issuer and the verifier as real OS processes (`node …/dist/main.js`, the built JavaScript), so a test
 * can SIGKILL them mid-work, restart them on the same port and data, read their RSS, and scan
 * every log line they wrote (stdout and stderr go straight to a file, not through the test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from './processes.js';
import { ENTRY_POINTS } from './entry-points.js';

/** An akm component running as a child process that the test controls. */
export interface AkmProcess {
  name: string;
  url: string;
  port: number;
  /** The file that receives every line the process writes. */
  logFile: string;
  pid(): number | undefined;
  /** Spawns it (again) on the same port and environment and waits until it answers `/healthz`. */
  start(): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then waits for the exit; its exit code. */
  stop(): Promise<number | null>;
  running(): boolean;
  /** Resident set size in KiB, from `/proc/<pid>/status`. */
  rssKb(): number;
  /** The last `chars` characters of its log, for failure messages. */
  logTail(chars?: number): string;
}

/** Options shared by {@link startIssuerProcess} and {@link startVerifierProcess}. */
export interface AkmProcessOptions {
  /** Directory that collects the log files of every process of the run. */
  logDir: string;
  /** Distinguishes this process's log file. */
  name: string;
  port?: number;
  /** The loopback address it listens on (`AKM_HOST`), e.g. one replica of several on one port. Default 127.0.0.1. */
  host?: string;
  /** Environment variables on top of the component's defaults. */
  env?: Record<string, string>;
  /** How long to wait for `/healthz`, ms. Default 30 s. */
  startTimeoutMs?: number;
}

const exitOf = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

async function akmProcess(main: string, portVar: string, options: AkmProcessOptions, env: Record<string, string>): Promise<AkmProcess> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}.log`);
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  let child: ChildProcess | undefined;
  const running = () => !!child && child.exitCode === null && child.signalCode === null;
  const logTail = (chars = 3000) => {
    try {
      return readFileSync(logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  };

  const proc: AkmProcess = {
    name: options.name,
    url,
    port,
    logFile,
    pid: () => (running() ? child?.pid : undefined),
    running,
    logTail,
    async start() {
      if (running()) return;
      const fd = openSync(logFile, 'a');
      child = spawn(process.execPath, [main], {
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, ...(options.host ? { AKM_HOST: options.host } : {}), [portVar]: String(port), ...options.env },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const started = child;
      try {
        await waitFor(async () => {
          if (started.exitCode !== null || started.signalCode !== null) throw new Error(`${options.name} exited (${started.exitCode ?? started.signalCode})`);
          const res = await fetch(`${url}/healthz`).catch(() => undefined);
          return res?.status === 200;
        }, options.startTimeoutMs ?? 30_000, 50);
      } catch (err) {
        throw new Error(`${options.name} did not start: ${(err as Error).message}\n${logTail()}`);
      }
    },
    async kill(signal = 'SIGKILL') {
      if (!child || !running()) return;
      const c = child;
      c.kill(signal);
      await exitOf(c);
    },
    async stop() {
      if (!child) return null;
      const c = child;
      if (running()) c.kill('SIGTERM');
      await exitOf(c);
      return c.exitCode;
    },
    rssKb() {
      const pid = proc.pid();
      if (!pid) throw new Error(`${options.name} is not running`);
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) throw new Error(`no VmRSS for ${options.name} (pid ${pid})`);
      return Number(match[1]);
    },
  };
  await proc.start();
  return proc;
}

/** Options of {@link startIssuerProcess}. */
export interface IssuerProcessOptions extends AkmProcessOptions {
  dataDir: string;
  adminPassword: string;
  natsUrl?: string;
  redisUrl?: string;
  streamReplicas?: number;
}

/** Runs the built issuer (`issuer/dist/main.js`) and waits until it answers. */
export function startIssuerProcess(options: IssuerProcessOptions): Promise<AkmProcess> {
  return akmProcess(ENTRY_POINTS.issuer, 'ISSUER_PORT', options, {
    AKM_DATA_DIR: options.dataDir,
    AKM_ADMIN_PASSWORD: options.adminPassword,
    ...(options.natsUrl ? { NATS_URL: options.natsUrl } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...(options.streamReplicas ? { AKM_STREAM_REPLICAS: String(options.streamReplicas) } : {}),
  });
}

/** Options of {@link startVerifierProcess}. */
export interface VerifierProcessOptions extends AkmProcessOptions {
  /** Where the JWKS comes from; omitted when `env` names an `AKM_JWKS_FILE`. */
  issuerUrl?: string;
  natsUrl: string;
  redisUrl?: string;
}

/** Runs the built verifier (`verifier/dist/main.js`) and waits until it answers (it may not be ready yet). */
export function startVerifierProcess(options: VerifierProcessOptions): Promise<AkmProcess> {
  return akmProcess(ENTRY_POINTS.verifier, 'VERIFIER_PORT', options, {
    ...(options.issuerUrl ? { ISSUER_URL: options.issuerUrl } : {}),
    NATS_URL: options.natsUrl,
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  });
}
