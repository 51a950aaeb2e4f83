/**
 * The issuers' load balancer of docker-compose.yml (deploy/nginx/issuer-lb.conf), run with a real
 * nginx in front of two real issuer processes on one real PostgreSQL, as compose runs it but
 * without Docker: the replicas listen on 127.0.0.2 and 127.0.0.3 (same port), and a stub DNS
 * server answers the service name `issuer` with both addresses. The config is the repository's
 * file with three mechanical substitutions: the resolver's address, the port nginx listens on,
 * and the issuers' port.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDns, substitute, type StubDns } from '../support/compose-dns.js';
import { ENTRY_POINTS } from '../support/entry-points.js';
import { createTestDatabase, freePort, startNginx, startPostgres, waitFor, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONF = 'deploy/nginx/issuer-lb.conf';
const REPLICAS = ['127.0.0.2', '127.0.0.3'];
const ADMIN_PASSWORD = 'an admin password for the lb test';

describe('the issuers\' load balancer (nginx, as compose runs it, on one PostgreSQL)', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  let postgres: TestServer | undefined;
  let nginx: TestServer | undefined;
  let dns: StubDns | undefined;
  const replicas: ChildProcess[] = [];
  const output: Record<string, string> = {};
  let issuerPort: number;
  let lb: string;
  let admin: string;

  const reachable = async (host: string) => (await fetch(`http://${host}:${issuerPort}/healthz`).catch(() => undefined))?.status === 200;
  /** `$upstream_addr $upstream_status $status` of each request nginx answered, oldest first. */
  const upstreamsUsed = () => readFileSync(join(nginx!.dir, 'upstreams.log'), 'utf8').split('\n').filter(Boolean);
  /** The last request's upstreams and what nginx logged about it, for a failure's message. */
  const lastRequest = () => `${upstreamsUsed().slice(-1)[0]}\n${readFileSync(join(nginx!.dir, 'error.log'), 'utf8')}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-issuer-lb-'));
    postgres = await startPostgres();
    const databaseUrl = await createTestDatabase(postgres);
    issuerPort = await freePort();
    for (const host of REPLICAS) {
      const child = spawn(process.execPath, [ENTRY_POINTS.issuer], {
        env: {
          PATH: process.env.PATH ?? '',
          AKM_HOST: host,
          ISSUER_PORT: String(issuerPort),
          AKM_DATA_DIR: join(dir, host),
          DATABASE_URL: databaseUrl,
          AKM_MASTER_KEY: 'the master key of the lb test, 32 characters or more',
          AKM_ADMIN_PASSWORD: ADMIN_PASSWORD,
          AKM_TRUST_PROXY: '1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      replicas.push(child);
      output[host] = '';
      child.stdout!.on('data', (d: Buffer) => (output[host] += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output[host] += d.toString()));
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`issuer on ${host} exited ${child.exitCode}: ${output[host]}`);
        return reachable(host);
      }, 20_000, 50);
    }

    dns = await startDns('issuer', REPLICAS);
    const shipped = readFileSync(join(ROOT, CONF), 'utf8');
    nginx = await startNginx({
      http: (port, dir) => {
        let conf = substitute(shipped, CONF, 'resolver 127.0.0.11 ', `resolver 127.0.0.1:${dns!.port} `);
        conf = substitute(conf, CONF, 'listen 8080;', `listen 127.0.0.1:${port};`);
        conf = substitute(conf, CONF, 'http://issuer:8080', `http://issuer:${issuerPort}`);
        return `log_format upstreams '$upstream_addr $upstream_status $status';\naccess_log ${join(dir, 'upstreams.log')} upstreams;\n${conf}`;
      },
    });
    lb = nginx.url;
    const login = await fetch(`${lb}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(login.status, await login.clone().text()).to.equal(200);
    admin = `Bearer ${((await login.json()) as { token: string }).token}`;
  });

  after(() =>
    stopEach(
      ...replicas.map((child) => () => child.kill('SIGKILL')),
      () => nginx?.destroy(),
      () => dns?.close(),
      () => postgres?.destroy(),
      () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );

  const createKey = (sub: string) =>
    fetch(`${lb}/admin/keys`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ sub, ttl: 600 }),
    });

  it('spreads requests over both replicas, and a key made through one is read through the other', async () => {
    const from = upstreamsUsed().length;
    for (let i = 0; i < 10; i++) {
      const created = await createKey(`lb-${i}`);
      expect(created.status, await created.clone().text()).to.equal(201);
      const { id } = (await created.json()) as { id: string };
      const read = await fetch(`${lb}/admin/keys/${id}`, { headers: { authorization: admin } });
      expect(read.status, await read.text()).to.equal(200);
    }
    const used = upstreamsUsed().slice(from).join('\n');
    for (const host of REPLICAS) expect(used, `requests reached ${host}`).to.include(`${host}:${issuerPort}`);
  });

  it('when one replica is killed, every request still succeeds on the other, also key creations (a refused connection moves on)', async () => {
    // Dead means exited: between SIGKILL and the exit, the kernel still accepts connections on
    // the dying process's socket and resets them when it closes, after the request was sent. nginx
    // rightly never re-sends such a POST (a request in flight at a crash may have been applied).
    const exited = new Promise((resolve) => replicas[0]!.once('exit', resolve));
    replicas[0]!.kill('SIGKILL');
    await exited;
    expect(await reachable(REPLICAS[0]!), 'the killed replica answers').to.equal(false);
    const from = upstreamsUsed().length;
    for (let i = 0; i < 16; i++) {
      const created = await createKey(`after-kill-${i}`);
      expect(created.status, `${await created.clone().text()} ${lastRequest()}`).to.equal(201);
      const { id } = (await created.json()) as { id: string };
      const read = await fetch(`${lb}/admin/keys/${id}`, { headers: { authorization: admin } });
      expect(read.status, `${await read.text()} ${lastRequest()}`).to.equal(200);
    }
    // nginx tries the two in a random order: in 32 requests the dead one comes first at least
    // once, but for a chance of 1 in 2^32.
    expect(upstreamsUsed().slice(from).join('\n'), 'the dead replica was tried, then the live one').to.include(
      `${REPLICAS[0]}:${issuerPort}, ${REPLICAS[1]}:${issuerPort}`,
    );
  });
});
