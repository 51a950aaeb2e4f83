/**
 * Real nats-server, redis-server and PostgreSQL processes for tests: each on a free port with a throwaway
 * data directory, so a test can also kill and restart them. No mocks.
 *
 * `TEST_NATS_URL` / `TEST_REDIS_URL` point the harness at servers it did not start (a machine
 * without the binaries, a CI service container). Then `startNats()` / `startRedis()` hand out
 * that server, whose handle refuses to stop, kill or restart it; a test that needs to do so, or
 * that needs an empty server, asks for `{ owned: true }` and always gets a process of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A server process the test controls. */
export interface TestServer {
  url: string;
  port: number;
  /** Its data directory; empty for a server the harness does not own. */
  dir: string;
  /**
   * Whether the harness started it. A server from `TEST_NATS_URL` / `TEST_REDIS_URL` is not
   * owned: `stop`, `kill` and `start` throw, and `destroy` leaves it running.
   */
  owned: boolean;
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

/** Where the harness looks for server binaries unless told otherwise: PATH, then the sbin dirs. */
const defaultSearchPath = () => `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin`;

interface BinarySpec {
  /** Executable name, e.g. `nats-server`. */
  name: string;
  /** Debian package that installs it. */
  pkg: string;
  /** Variable naming an external server instead. */
  envVar: string;
  /** What the external server must offer, for the message. */
  envHint: string;
}

function requireBinary(spec: BinarySpec, searchPath: string, owned: boolean): string {
  const dirs = searchPath.split(':').filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, spec.name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  const install = `${spec.name} not found in ${dirs.join(':') || '(empty search path)'}: install it (apt-get install -y ${spec.pkg})`;
  throw new Error(
    owned
      ? `${install}; this test stops, restarts or empties ${spec.name}, so it needs one the harness starts itself (${spec.envVar} does not help here)`
      : `${install}, or set ${spec.envVar} to ${spec.envHint}`,
  );
}

function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, host);
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening`);
    if (await canConnect(port)) return;
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
  /** Environment of the process (on top of PATH). */
  env?: Record<string, string>;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
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
    owned: true,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawn(options.binary, options.args(port, dir), {
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(options.env ? { env: { PATH: process.env.PATH ?? '', ...options.env } } : {}),
        ...(options.user ?? {}),
      });
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

/**
 * A server the harness did not start, from `TEST_NATS_URL` / `TEST_REDIS_URL`. Fails at once
 * when nothing answers there; its handle refuses to stop, kill or restart it.
 */
async function external(spec: BinarySpec, url: string, defaultPort: number): Promise<TestServer> {
  const first = new URL(url.split(',')[0]!.trim());
  const port = first.port ? Number(first.port) : defaultPort;
  const host = first.hostname.replace(/^\[|\]$/g, '');
  if (!(await canConnect(port, host))) throw new Error(`${spec.envVar}=${url}: nothing answers on ${host}:${port}`);
  const refuse = (what: string) => async () => {
    throw new Error(
      `cannot ${what} ${spec.name} at ${url}: it comes from ${spec.envVar} and the harness does not own it; ` +
        `a test that ${what}s the server must ask for one of its own with { owned: true }`,
    );
  };
  return {
    url,
    port,
    dir: '',
    owned: false,
    stop: refuse('stop'),
    kill: refuse('kill'),
    start: refuse('start'),
    // Nothing to clean: the server and its data belong to whoever started it.
    async destroy() {},
  };
}

/** Options of {@link startNats} and {@link startRedis}. */
export interface TestServerOptions {
  /**
   * Start a process of the test's own even when `TEST_NATS_URL` / `TEST_REDIS_URL` is set: for
   * a test that stops, kills or restarts the server, or needs it empty. Default false.
   */
  owned?: boolean;
  /** Colon-separated directories to look for the binary in. Default: PATH, then /usr/sbin, /usr/bin, /sbin. */
  searchPath?: string;
}

/** Options of {@link startNats}. */
export interface NatsServerOptions extends TestServerOptions {
  /** A given port, directory or extra arguments imply `owned`. */
  port?: number;
  dir?: string;
  /** Extra nats-server arguments (cluster routes, server name…). */
  extraArgs?: (port: number, dir: string) => string[];
  /**
   * A configuration file (`-c`), e.g. deploy/nats/nats-server.conf with its accounts and
   * permissions; the port, address and store directory on the command line still win.
   */
  configFile?: string;
  /** Environment of nats-server (the variables the configuration file reads). */
  env?: Record<string, string>;
  /** Serve clients over TLS with this certificate and key (PEM files); the URL is then `tls://`. */
  tls?: { certFile: string; keyFile: string };
}

const NATS: BinarySpec = {
  name: 'nats-server',
  pkg: 'nats-server',
  envVar: 'TEST_NATS_URL',
  envHint: 'a running nats-server with JetStream (-js)',
};
const REDIS: BinarySpec = { name: 'redis-server', pkg: 'redis-server', envVar: 'TEST_REDIS_URL', envHint: 'a running redis-server' };

/**
 * Starts `nats-server -js` on a free port with a throwaway store directory, or hands out the
 * server of `TEST_NATS_URL` when it is set and the test did not ask for an owned one.
 */
export async function startNats(options: NatsServerOptions = {}): Promise<TestServer> {
  const owned =
    options.owned === true ||
    options.port !== undefined ||
    options.dir !== undefined ||
    options.extraArgs !== undefined ||
    options.configFile !== undefined ||
    options.tls !== undefined;
  const externalUrl = process.env.TEST_NATS_URL;
  if (externalUrl && !owned) return external(NATS, externalUrl, 4222);
  const binary = requireBinary(NATS, options.searchPath ?? defaultSearchPath(), owned);
  return managed({
    name: 'nats',
    binary,
    scheme: options.tls ? 'tls' : 'nats',
    port: options.port,
    dir: options.dir,
    env: options.env,
    args: (port, dir) => [
      ...(options.configFile ? ['-c', options.configFile] : []),
      '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir,
      ...(options.tls ? ['--tls', '--tlscert', options.tls.certFile, '--tlskey', options.tls.keyFile] : []),
      ...(options.extraArgs?.(port, dir) ?? []),
    ],
  });
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions extends TestServerOptions {
  /** A given port, extra arguments or TLS imply `owned`. */
  port?: number;
  /** Extra redis-server arguments, e.g. ACL users: `['--user', 'default', 'off', '--user', 'akm', 'on', '>pw', '~akm:*', '+@all']`. */
  extraArgs?: string[];
  /** Serve TLS only, with this certificate, key and CA (PEM files); the URL is then `rediss://`. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/**
 * Starts `redis-server` on a free port, keeping nothing on disk, or hands out the server of
 * `TEST_REDIS_URL` when it is set and the test did not ask for an owned one.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<TestServer> {
  const owned = options.owned === true || options.port !== undefined || options.extraArgs !== undefined || options.tls !== undefined;
  const externalUrl = process.env.TEST_REDIS_URL;
  if (externalUrl && !owned) return external(REDIS, externalUrl, 6379);
  const binary = requireBinary(REDIS, options.searchPath ?? defaultSearchPath(), owned);
  return managed({
    name: 'redis',
    binary,
    scheme: options.tls ? 'rediss' : 'redis',
    port: options.port,
    args: (port, dir) => [
      ...(options.tls
        ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile,
          '--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no']
        : ['--port', String(port)]),
      '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      ...(options.extraArgs ?? []),
    ],
  });
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /**
   * The `http` block's contents for a server on `port` (logs and temporary files already go to
   * `dir`). Include the shipped snippets by absolute path.
   */
  http: (port: number, dir: string) => string;
  searchPath?: string;
}

const NGINX: BinarySpec = { name: 'nginx', pkg: 'nginx', envVar: '(none)', envHint: '' };

/**
 * Starts a real nginx (Debian's `nginx`) in the foreground on a free port, with its
 * configuration, logs, pid and temporary files in a throwaway directory (`dir/error.log` holds
 * what it complained about). Always a process of the test's own.
 */
export async function startNginx(options: NginxOptions): Promise<TestServer> {
  const binary = requireBinary(NGINX, options.searchPath ?? defaultSearchPath(), true);
  return managed({
    name: 'nginx',
    binary,
    scheme: 'http',
    args: (port, dir) => {
      const conf = join(dir, 'nginx.conf');
      writeFileSync(
        conf,
        [
          'daemon off;',
          'master_process on;',
          'worker_processes 1;',
          `pid ${join(dir, 'nginx.pid')};`,
          `error_log ${join(dir, 'error.log')} info;`,
          'events { worker_connections 64; }',
          'http {',
          `  access_log ${join(dir, 'access.log')};`,
          `  client_body_temp_path ${join(dir, 'client_body')};`,
          `  proxy_temp_path ${join(dir, 'proxy')};`,
          `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
          `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
          `  scgi_temp_path ${join(dir, 'scgi')};`,
          options.http(port, dir),
          '}',
          '',
        ].join('\n'),
      );
      return ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')];
    },
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

const POSTGRES: BinarySpec = {
  name: 'postgres',
  pkg: 'postgresql',
  envVar: 'TEST_DATABASE_URL',
  envHint: 'a running PostgreSQL whose user may create databases (postgres://user:password@host:port/db)',
};

/** Where Debian keeps PostgreSQL's server binaries (not on PATH): the newest version's bin directory. */
function postgresSearchPath(): string {
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // not installed the Debian way
  }
  return [...versions.map((v) => `/usr/lib/postgresql/${v}/bin`), defaultSearchPath()].join(':');
}

/** The unprivileged user PostgreSQL runs as when the tests run as root (it refuses root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('the tests run as root and there is no postgres or nobody user to run PostgreSQL as');
}

/**
 * Starts PostgreSQL on a free port: `initdb` into a throwaway directory, then `postgres` (as an
 * unprivileged user when the tests run as root), trusting local connections of user `akm`; or
 * hands out the server of `TEST_DATABASE_URL` when it is set and the test did not ask for an
 * owned one. Each test makes its own database on it with {@link createTestDatabase}.
 */
export async function startPostgres(options: TestServerOptions = {}): Promise<TestServer> {
  const owned = options.owned === true;
  const externalUrl = process.env.TEST_DATABASE_URL;
  if (externalUrl && !owned) return external(POSTGRES, externalUrl, 5432);
  const binary = requireBinary(POSTGRES, options.searchPath ?? postgresSearchPath(), owned);
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'akm-postgres-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const initdb = spawnSync(
    join(dirname(binary), 'initdb'),
    ['-D', join(dir, 'data'), '-U', 'akm', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...(user ?? {}), env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
  );
  if (initdb.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${initdb.status}): ${initdb.stderr || initdb.error?.message}`);
  }
  const server = await managed({
    name: 'postgres',
    binary,
    scheme: 'postgres',
    dir,
    user,
    env: { LC_ALL: 'C' },
    // fsync off: a test server's data need not survive the machine; a restart keeps it.
    args: (port, d) => ['-D', join(d, 'data'), '-p', String(port), '-h', '127.0.0.1', '-k', d, '-c', 'fsync=off', '-c', 'max_connections=300'],
  });
  const url = `postgres://akm@127.0.0.1:${server.port}/postgres`;
  await waitForPostgres(url);
  return {
    ...server,
    url,
    async start() {
      await server.start();
      await waitForPostgres(url);
    },
    async destroy() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until PostgreSQL at `url` answers a query (it listens before it accepts connections). */
async function waitForPostgres(url: string, timeoutMs = 15_000): Promise<void> {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} did not answer within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** A new, empty database on `server` (owned or from `TEST_DATABASE_URL`): its URL. */
export async function createTestDatabase(server: TestServer): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `akm_test_${randomUUID().replaceAll('-', '')}`;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}
