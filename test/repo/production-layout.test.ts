/**
 * What the Docker image runs, assembled without Docker (no engine runs on CI machines): the
 * production dependencies (`npm ci --omit=dev`, as the image's prod-deps stage), then the files
 * named by the runtime stage's `COPY --from=build` lines, then each compose service's command
 * run with plain `node` as the image's CMD would. The Dockerfile and compose file are read, not
 * restated, so a change to either is what this test runs.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, startNats, waitFor, type TestServer } from '../support/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKSPACES = ['common', 'client', 'verifier', 'issuer'];

interface ImagePlan {
  /** `[from, to]` of each `COPY --from=build` of the runtime stage, relative to /app. */
  copies: [string, string][];
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[];
}

/** The runtime stage of the Dockerfile: what it copies from the build, its ENV, USER and CMD. */
function readImagePlan(): ImagePlan {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^FROM .* AS runtime$/.test(l));
  expect(start, 'the Dockerfile has a stage named runtime').to.be.greaterThan(-1);
  const plan: ImagePlan = { copies: [], env: {}, user: undefined, cmd: [] };
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('FROM ')) break;
    const copy = /^COPY --from=build \/app\/(\S+) \.\/(\S*)$/.exec(line);
    if (copy) plan.copies.push([copy[1]!, copy[2]!]);
    const env = /^ENV (.+)$/.exec(line);
    if (env) for (const pair of env[1]!.split(/\s+/)) plan.env[pair.split('=')[0]!] = pair.split('=').slice(1).join('=');
    const user = /^USER (\S+)$/.exec(line);
    if (user) plan.user = user[1];
    const cmd = /^CMD (\[.*\])$/.exec(line);
    if (cmd) plan.cmd = JSON.parse(cmd[1]!) as string[];
  }
  return plan;
}

/** What the tests read of a compose service (the file is read line by line: no YAML library in the image or here). */
interface ComposeService {
  command: string[];
  init: boolean;
  build: boolean;
  image: string | undefined;
  restart: string | undefined;
  ports: string[];
  volumes: string[];
  environment: Record<string, string>;
  replicas: number;
}

/** Every service of docker-compose.yml, and its top-level named volumes. */
function readCompose(): { services: Record<string, ComposeService>; volumes: string[] } {
  const services: Record<string, ComposeService> = {};
  const volumes: string[] = [];
  let current: string | undefined;
  let section: string | undefined;
  let topLevel: string | undefined;
  for (const line of readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8').split('\n')) {
    if (/^\S/.test(line) && !line.startsWith('#')) {
      topLevel = line.replace(/:.*$/, '');
      current = undefined;
      continue;
    }
    if (topLevel === 'volumes') {
      const volume = /^ {2}([a-z-]+):\s*$/.exec(line);
      if (volume) volumes.push(volume[1]!);
      continue;
    }
    const name = /^ {2}([a-z-]+):$/.exec(line);
    if (name) {
      current = name[1]!;
      services[current] = { command: [], init: false, build: false, image: undefined, restart: undefined, ports: [], volumes: [], environment: {}, replicas: 1 };
      continue;
    }
    if (!current) continue;
    const service = services[current]!;
    const key = /^ {4}([a-z_]+):\s*(.*)$/.exec(line);
    if (key) {
      section = key[1];
      const value = key[2]!;
      if (section === 'build') service.build = value === '.';
      if (section === 'init') service.init = value === 'true';
      if (section === 'image') service.image = value;
      if (section === 'restart') service.restart = value;
      if (section === 'command') service.command = JSON.parse(value) as string[];
      if (section === 'ports' && value) service.ports = JSON.parse(value) as string[];
      if (section === 'volumes' && value) service.volumes = JSON.parse(value) as string[];
      continue;
    }
    const entry = /^ {6}([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (entry && section === 'environment') service.environment[entry[1]!] = entry[2]!;
    if (entry && section === 'deploy' && entry[1] === 'replicas') service.replicas = Number(entry[2]);
  }
  return { services, volumes };
}

/** Each compose service built from the Dockerfile: its command and whether it has an init. */
function readComposeServices(): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(readCompose().services).filter(([, s]) => s.build));
}

describe('docker-compose.yml keeps its promises (read, not run: Docker cannot run on CI machines)', () => {
  const { services, volumes } = readCompose();

  it('every service restarts unless stopped', () => {
    expect(Object.keys(services)).to.include.members(['nats', 'redis', 'issuer', 'verifier', 'verifier-lb']);
    for (const [name, service] of Object.entries(services)) expect(service.restart, name).to.equal('unless-stopped');
  });

  it('Redis, which holds the token pool, writes an append-only file to a named volume', () => {
    const redis = services.redis!;
    expect(redis.command.join(' ')).to.include('--appendonly yes');
    const data = redis.volumes.find((v) => v.endsWith(':/data'));
    expect(data, JSON.stringify(redis.volumes)).to.be.a('string');
    expect(volumes, 'a named volume, declared at the top level').to.include(data!.split(':')[0]);
  });

  it('the verifier replicas publish no port; one nginx service publishes 8081 and balances over them with the repository\'s config', () => {
    expect(services.verifier!.replicas).to.be.at.least(2);
    expect(services.verifier!.ports, 'a random host port per replica').to.deep.equal([]);
    const published = Object.entries(services).filter(([, s]) => s.ports.some((p) => /(^|:)8081:8081$/.test(p)));
    expect(published.map(([name]) => name)).to.deep.equal(['verifier-lb']);
    const lb = services['verifier-lb']!;
    expect(lb.image).to.match(/^nginx:/);
    const mount = lb.volumes.find((v) => v.includes('/etc/nginx/conf.d/'));
    const file = mount?.split(':')[0];
    expect(file, JSON.stringify(lb.volumes)).to.be.a('string');
    const conf = readFileSync(join(ROOT, file!), 'utf8');
    expect(conf).to.match(/listen 8081;/);
    expect(conf).to.include('http://verifier:8081');
    expect(conf).to.match(/resolver 127\.0\.0\.11/);
  });

  it('the issuer replicas share PostgreSQL (on a named volume), publish no port, and one nginx service publishes 8080 with the repository\'s config', () => {
    const issuer = services.issuer!;
    expect(issuer.replicas).to.be.at.least(2);
    expect(issuer.ports).to.deep.equal([]);
    expect(issuer.environment.DATABASE_URL).to.match(/^postgres:\/\/akm:\$\{AKM_POSTGRES_PASSWORD\}@postgres:5432\/akm$/);
    expect(issuer.environment.AKM_MASTER_KEY, 'required, no default').to.match(/^\$\{AKM_MASTER_KEY:\?[^}]+\}$/);
    expect(services.postgres!.environment.POSTGRES_PASSWORD).to.match(/^\$\{AKM_POSTGRES_PASSWORD:\?[^}]+\}$/);
    const data = services.postgres!.volumes.find((v) => v.endsWith(':/var/lib/postgresql/data'));
    expect(volumes, 'a named volume, declared at the top level').to.include(data?.split(':')[0]);
    const published = Object.entries(services).filter(([, s]) => s.ports.some((p) => /(^|:)8080:8080$/.test(p)));
    expect(published.map(([name]) => name)).to.deep.equal(['issuer-lb']);
    const mount = services['issuer-lb']!.volumes.find((v) => v.includes('/etc/nginx/conf.d/'));
    const conf = readFileSync(join(ROOT, mount!.split(':')[0]!), 'utf8');
    expect(conf).to.match(/listen 8080;/);
    expect(conf).to.include('http://issuer:8080');
    expect(services.verifier!.environment.ISSUER_URL, 'the verifiers fetch the JWKS through it').to.equal('http://issuer-lb:8080');
  });

  it('has no default admin password: compose refuses to start without AKM_ADMIN_PASSWORD', () => {
    const value = services.issuer!.environment.AKM_ADMIN_PASSWORD ?? '';
    expect(value, 'required (${VAR:?message}), never ${VAR:-default}').to.match(/^\$\{AKM_ADMIN_PASSWORD:\?[^}]+\}$/);
  });
});

describe('the production image, assembled as the Dockerfile says', function () {
  this.timeout(60_000);
  let app: string;
  let nats: TestServer | undefined;
  const children: ChildProcess[] = [];
  const plan = readImagePlan();

  before(async function () {
    this.timeout(240_000);
    app = mkdtempSync(join(tmpdir(), 'akm-image-'));
    for (const file of ['package.json', 'package-lock.json', ...WORKSPACES.map((w) => `${w}/package.json`)]) {
      mkdirSync(dirname(join(app, file)), { recursive: true });
      cpSync(join(ROOT, file), join(app, file));
    }
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app,
      timeout: 180_000,
    });
    // The image runs `npm rebuild better-sqlite3` here; the repository's copy was built from the
    // same version for this machine, so its native module stands in for a minute of compiling.
    cpSync(join(ROOT, 'node_modules/better-sqlite3/build'), join(app, 'node_modules/better-sqlite3/build'), { recursive: true });
    for (const [from, to] of plan.copies) {
      // `COPY a/b ./c/` (or `./`) puts b inside c; `COPY a/b ./c` makes c.
      const into = to === '' || to.endsWith('/');
      cpSync(join(ROOT, from), join(app, to, into ? basename(from) : ''), { recursive: true });
    }
    nats = await startNats();
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await nats?.destroy();
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('runs as a non-root user, with node itself as the command of the image and of every compose service, behind an init', () => {
    expect(plan.user, 'USER of the runtime stage').to.equal('node');
    expect(plan.cmd[0], 'CMD runs node directly (exec form, no npx, no shell)').to.equal('node');
    const services = readComposeServices();
    expect(Object.keys(services).sort()).to.deep.equal(['issuer', 'verifier']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.command[0], `${name}: command`).to.equal('node');
      expect(service.command[1], `${name}: built JavaScript`).to.match(/^[a-z]+\/dist\/main\.js$/);
      expect(service.init, `${name}: init: true, so that node is not PID 1`).to.equal(true);
    }
  });

  it('holds production dependencies only: no TypeScript, tsx, esbuild or test tools', () => {
    for (const name of ['typescript', 'tsx', 'esbuild', 'mocha', 'chai', 'supertest', 'autocannon']) {
      expect(existsSync(join(app, 'node_modules', name)), `${name} in the image`).to.equal(false);
    }
    for (const name of ['better-sqlite3', 'express', 'jose', '@akm/verifier']) {
      expect(existsSync(join(app, 'node_modules', name)), `${name} in the image`).to.equal(true);
    }
  });

  it('the issuer and a verifier start from the compose commands, serve, and stop gracefully on SIGTERM', async () => {
    const services = readComposeServices();
    const logs: Record<string, string> = {};
    const start = async (name: string, env: Record<string, string>, portVar: string) => {
      const port = await freePort();
      const child = spawn(process.execPath, services[name]!.command.slice(1), {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', ...plan.env, AKM_HOST: '127.0.0.1', [portVar]: String(port), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      logs[name] = '';
      child.stdout?.on('data', (d: Buffer) => (logs[name] += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (logs[name] += d.toString()));
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${logs[name]}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
      }, 20_000, 50);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { url, child, exited };
    };

    const issuer = await start('issuer', { AKM_DATA_DIR: join(app, 'data'), NATS_URL: nats!.url, AKM_ADMIN_PASSWORD: 'image test password' }, 'ISSUER_PORT');
    const verifier = await start('verifier', { ISSUER_URL: issuer.url, NATS_URL: nats!.url }, 'VERIFIER_PORT');

    const login = await fetch(`${issuer.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'image test password' }),
    });
    const { token } = (await login.json()) as { token: string };
    const created = await fetch(`${issuer.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'image', role: 'user' }),
    });
    const { key } = (await created.json()) as { key: string };
    let price = 0;
    await waitFor(async () => {
      price = (await fetch(`${verifier.url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${key}` } })).status;
      return price === 200;
    }, 5000, 50).catch(() => undefined);
    expect(price, logs.verifier).to.equal(200);
    const consolePage = await fetch(`${issuer.url}/console/`);
    expect(consolePage.status, 'the image serves the built console').to.equal(200);
    expect(await consolePage.text()).to.include('<div id="app">');

    for (const [name, proc] of [['verifier', verifier], ['issuer', issuer]] as const) {
      proc.child.kill('SIGTERM');
      expect(await proc.exited, `${name} exit code after SIGTERM: ${logs[name]}`).to.equal(0);
      expect(logs[name], `${name} logged its shutdown`).to.include('"signal":"SIGTERM"');
    }
    expect(logs.issuer, 'the issuer closed its stores').to.include('issuer stopped');
  });
});
