/**
 * The issuers' load balancer of docker-compose.yml (deploy/nginx/issuer-lb.conf), run with a real
 * nginx in front of two real issuer processes on one real PostgreSQL, as compose runs it but
 * without Docker: the replicas listen on 127.0.0.2 and 127.0.0.3 (same port), and a stub DNS
 * server answers the service name `issuer` with both addresses. The config is the repository's
 * file with three mechanical substitutions: the resolver's address, the port nginx listens on,
 * and the issuers' port.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startComposeLb, startDns, type ComposeLb, type StubDns } from '../support/compose-dns.js';
import { startIssuerProcess, type AkmProcess } from '../support/akm-processes.js';
import { createTestDatabase, freePort, startPostgres, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';

const REPLICAS = ['127.0.0.2', '127.0.0.3'];
const ADMIN_PASSWORD = 'an admin password for the lb test';

describe('the issuers\' load balancer (nginx, as compose runs it, on one PostgreSQL)', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  let postgres: TestServer | undefined;
  let balancer: ComposeLb | undefined;
  let dns: StubDns | undefined;
  const replicas: AkmProcess[] = [];
  let issuerPort: number;
  let lb: string;
  let admin: string;

  const reachable = async (host: string) => (await fetch(`http://${host}:${issuerPort}/healthz`).catch(() => undefined))?.status === 200;
  /** The last request's upstreams and what nginx logged about it, for a failure's message. */
  const lastRequest = () => `${balancer!.upstreamsUsed().slice(-1)[0]}\n${balancer!.errors()}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-issuer-lb-'));
    postgres = await startPostgres();
    const databaseUrl = await createTestDatabase(postgres);
    issuerPort = await freePort();
    for (const host of REPLICAS) {
      replicas.push(
        await startIssuerProcess({
          name: `issuer-${host}`,
          logDir: join(dir, 'logs'),
          host,
          port: issuerPort,
          dataDir: join(dir, host),
          adminPassword: ADMIN_PASSWORD,
          env: { DATABASE_URL: databaseUrl, AKM_MASTER_KEY: 'the master key of the lb test, 32 characters or more', AKM_TRUST_PROXY: '1', LOG_LEVEL: 'warn' },
        }),
      );
    }

    dns = await startDns('issuer', REPLICAS);
    balancer = await startComposeLb('deploy/nginx/issuer-lb.conf', 'issuer', 8080, dns, issuerPort);
    lb = balancer.nginx.url;
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
      ...replicas.map((replica) => () => replica.kill()),
      () => balancer?.nginx.destroy(),
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
    const from = balancer!.upstreamsUsed().length;
    for (let i = 0; i < 10; i++) {
      const created = await createKey(`lb-${i}`);
      expect(created.status, await created.clone().text()).to.equal(201);
      const { id } = (await created.json()) as { id: string };
      const read = await fetch(`${lb}/admin/keys/${id}`, { headers: { authorization: admin } });
      expect(read.status, await read.text()).to.equal(200);
    }
    const used = balancer!.upstreamsUsed().slice(from).join('\n');
    for (const host of REPLICAS) expect(used, `requests reached ${host}`).to.include(`${host}:${issuerPort}`);
  });

  it('when one replica is killed, every request still succeeds on the other, also key creations (a refused connection moves on)', async () => {
    // SIGKILL, then the exit: until then the kernel still accepts connections on the dying
    // process's socket and resets them when it closes, after the request was sent. nginx rightly
    // never re-sends such a POST (a request in flight at a crash may have been applied).
    await replicas[0]!.kill();
    expect(await reachable(REPLICAS[0]!), 'the killed replica answers').to.equal(false);
    const from = balancer!.upstreamsUsed().length;
    for (let i = 0; i < 16; i++) {
      const created = await createKey(`after-kill-${i}`);
      expect(created.status, `${await created.clone().text()} ${lastRequest()}`).to.equal(201);
      const { id } = (await created.json()) as { id: string };
      const read = await fetch(`${lb}/admin/keys/${id}`, { headers: { authorization: admin } });
      expect(read.status, `${await read.text()} ${lastRequest()}`).to.equal(200);
    }
    // nginx tries the two in a random order: in 32 requests the dead one comes first at least
    // once, but for a chance of 1 in 2^32.
    expect(balancer!.upstreamsUsed().slice(from).join('\n'), 'the dead replica was tried, then the live one').to.include(
      `${REPLICAS[0]}:${issuerPort}, ${REPLICAS[1]}:${issuerPort}`,
    );
  });
});
