/**
 * Real nats-server and redis-server processes for tests: each on a free port with a throwaway
 * data directory, so a test can also kill and restart them. No mocks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server process the test controls. */
export interface TestServer {
  url: string;
  port: number;
  dir: string;
  /** Stops it politely (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** Finds a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function requireBinary(name: string, pkg: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name} || ls /usr/sbin/${name} /usr/bin/${name} 2>/dev/null`], {
    encoding: 'utf8',
  });
  const path = found.stdout.trim().split('\n')[0];
  if (!path) {
    throw new Error(`${name} not found: install it (apt-get install -y ${pkg}) or set TEST_${name === 'nats-server' ? 'NATS' : 'REDIS'}_URL`);
  }
  return path;
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

interface ManagedOptions {
  name: string;
  binary: string;
  args: (port: number, dir: string) => string[];
  scheme: string;
  port?: number;
  dir?: string;
}

async function managed(options: ManagedOptions): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `akm-${options.name}-`));
  let child: ChildProcess | undefined;
  const output: string[] = [];

  const server: TestServer = {
    url: `${options.scheme}://127.0.0.1:${port}`,
    port,
    dir,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawn(options.binary, options.args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
      try {
        await waitForPort(port, child, options.name);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${output.join('').slice(-2000)}`);
      }
    },
    async stop() {
      if (!child) return;
      const c = child;
      c.kill('SIGTERM');
      await waitExit(c);
    },
    async kill() {
      if (!child) return;
      const c = child;
      c.kill('SIGKILL');
      await waitExit(c);
    },
    async destroy() {
      await server.kill();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Options of {@link startNats}. */
export interface NatsServerOptions {
  port?: number;
  dir?: string;
  /** Extra nats-server arguments (cluster routes, server name…). */
  extraArgs?: (port: number, dir: string) => string[];
}

/** Starts `nats-server -js` on a free port with a throwaway store directory. */
export async function startNats(options: NatsServerOptions = {}): Promise<TestServer> {
  const binary = requireBinary('nats-server', 'nats-server');
  return managed({
    name: 'nats',
    binary,
    scheme: 'nats',
    port: options.port,
    dir: options.dir,
    args: (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, ...(options.extraArgs?.(port, dir) ?? [])],
  });
}

/** Starts `redis-server` on a free port, keeping nothing on disk. */
export async function startRedis(options: { port?: number } = {}): Promise<TestServer> {
  const binary = requireBinary('redis-server', 'redis-server');
  return managed({
    name: 'redis',
    binary,
    scheme: 'redis',
    port: options.port,
    args: (port, dir) => [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    ],
  });
}

/** Waits until `check` returns true, polling every `intervalMs`; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A JetStream cluster of nats-server processes on loopback. */
export interface NatsCluster {
  /** Every node's client URL, comma-separated (what `NATS_URL` takes). */
  url: string;
  nodes: (TestServer & { name: string })[];
  /** Stops every node and removes their data directories. */
  destroy(): Promise<void>;
}

/**
 * Starts `size` nats-server nodes (default 3) routed to each other as one JetStream cluster,
 * each on free ports with its own store directory. Resolves once every node listens; the
 * JetStream meta leader may still be in election (callers wait for the API to answer).
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes = await Promise.all(
    clusterPorts.map(async (clusterPort, i) => {
      const name = `n${i + 1}`;
      const routes = clusterPorts.filter((p) => p !== clusterPort).map((p) => `nats://127.0.0.1:${p}`).join(',');
      const server = await startNats({
        extraArgs: () => ['--server_name', name, '--cluster_name', 'akm', '--cluster', `nats://127.0.0.1:${clusterPort}`, '--routes', routes],
      });
      return Object.assign(server, { name });
    }),
  );
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    async destroy() {
      await Promise.all(nodes.map((n) => n.destroy()));
    },
  };
}
