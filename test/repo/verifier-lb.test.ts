/**
 * The load balancer of docker-compose.yml (deploy/nginx/verifier-lb.conf), run with a real
 * nginx in front of two real verifier processes, as compose runs it but without Docker: the
 * replicas listen on 127.0.0.2 and 127.0.0.3 (same port, as replicas of one service do), and a
 * small DNS server stands in for Docker's (127.0.0.11), answering the service name `verifier`
 * with both addresses. The config is the repository's file with three mechanical substitutions
 * (each must match exactly once): the resolver's address, the port nginx listens on, and the
 * verifiers' port.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats, ensureKeyStream } from '@akm/common';
import { createSigner } from '../../verifier/test/support/signing.js';
import { startDns, substitute, type StubDns } from '../support/compose-dns.js';
import { ENTRY_POINTS } from '../support/entry-points.js';
import { freePort, startNats, waitFor, type TestServer } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPLICAS = ['127.0.0.2', '127.0.0.3'];

function nginxBinary(): string {
  for (const dir of `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin`.split(':').filter(Boolean)) {
    try {
      accessSync(join(dir, 'nginx'), constants.X_OK);
      return join(dir, 'nginx');
    } catch {
      // not here
    }
  }
  throw new Error('nginx not found: install it (apt-get install -y nginx)');
}

describe('the verifiers\' load balancer (nginx, as compose runs it)', function () {
  this.timeout(60_000);
  let dir: string;
  let nats: TestServer | undefined;
  let dns: StubDns | undefined;
  const children: ChildProcess[] = [];
  let lb: string;
  let accessLog: string;
  let verifierPort: number;
  const logs: Record<string, string> = {};

  before(async function () {
    this.timeout(60_000);
    dir = mkdtempSync(join(tmpdir(), 'akm-lb-'));
    nats = await startNats({ owned: true });
    const nc = await connectNats({ url: nats.url, name: 'lb-test' });
    await ensureKeyStream(nc, { maxAgeSeconds: 3600 });
    await nc.drain();
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify((await createSigner()).jwks));

    // One replica follows the key stream and is ready; the other waits for a stream that never
    // comes (on the same server, so nothing outside the test can make it ready) and answers 503.
    verifierPort = await freePort();
    for (const [i, host] of REPLICAS.entries()) {
      const child = spawn(process.execPath, [ENTRY_POINTS.verifier], {
        env: {
          PATH: process.env.PATH ?? '',
          AKM_HOST: host,
          VERIFIER_PORT: String(verifierPort),
          AKM_JWKS_FILE: jwks,
          NATS_URL: nats.url,
          AKM_STREAM: i === 0 ? 'AKM_KEYS' : 'AKM_KEYS_NEVER_CREATED',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      logs[host] = '';
      child.stdout!.on('data', (d: Buffer) => (logs[host] += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (logs[host] += d.toString()));
      await waitFor(async () => (await fetch(`http://${host}:${verifierPort}/healthz`).catch(() => undefined))?.status === 200, 15_000, 50);
    }
    await waitFor(async () => (await fetch(`http://${REPLICAS[0]}:${verifierPort}/readyz`)).status === 200, 15_000, 50);

    dns = await startDns('verifier', REPLICAS);
    const lbPort = await freePort();
    let conf = readFileSync(join(ROOT, 'deploy/nginx/verifier-lb.conf'), 'utf8');
    conf = substitute(conf, 'deploy/nginx/verifier-lb.conf', 'resolver 127.0.0.11 ', `resolver 127.0.0.1:${dns.port} `);
    conf = substitute(conf, 'deploy/nginx/verifier-lb.conf', 'listen 8081;', `listen 127.0.0.1:${lbPort};`);
    conf = substitute(conf, 'deploy/nginx/verifier-lb.conf', 'http://verifier:8081', `http://verifier:${verifierPort}`);
    writeFileSync(join(dir, 'verifier-lb.conf'), conf);
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
    accessLog = join(dir, 'access.log');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
       worker_processes 1;
       pid ${dir}/nginx.pid;
       error_log ${dir}/error.log warn;
       events {}
       http {
         client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
         uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
         log_format upstreams '$upstream_addr $upstream_status $status';
         access_log ${accessLog} upstreams;
         include ${dir}/verifier-lb.conf;
       }`,
    );
    const nginx = spawn(nginxBinary(), ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(nginx);
    logs.nginx = '';
    nginx.stderr!.on('data', (d: Buffer) => (logs.nginx += d.toString()));
    lb = `http://127.0.0.1:${lbPort}`;
    await waitFor(async () => {
      if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${logs.nginx}`);
      return (await fetch(`${lb}/healthz`).catch(() => undefined)) !== undefined;
    }, 10_000, 50);
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    dns?.close();
    await nats?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const upstreamsUsed = () => readFileSync(accessLog, 'utf8').split('\n').filter(Boolean);

  it('spreads requests over every replica from one address', async () => {
    const before = upstreamsUsed().length;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${lb}/healthz`);
      expect(res.status, logs.nginx).to.equal(200);
    }
    const used = upstreamsUsed().slice(before).join('\n');
    for (const host of REPLICAS) expect(used, `requests reached ${host}`).to.include(`${host}:${verifierPort}`);
  });

  it('skips a replica that answers 503 (not replayed, or stale) for one that is ready', async () => {
    // nginx tries the replicas in a random order: in 16 requests the unready one comes first at
    // least once, but for a chance of 1 in 65,536.
    for (let i = 0; i < 16; i++) {
      const res = await fetch(`${lb}/readyz`);
      expect(res.status, `${upstreamsUsed().slice(-1)[0]} ${logs.nginx}`).to.equal(200);
    }
    expect(upstreamsUsed().join('\n'), 'the unready replica was asked, then skipped').to.include(`${REPLICAS[1]}:${verifierPort}, ${REPLICAS[0]}:${verifierPort}`);
  });

  it('answers 503 unavailable when no replica is ready or none is running (fails closed)', async () => {
    children[0]!.kill('SIGKILL');
    await waitFor(async () => (await fetch(`http://${REPLICAS[0]}:${verifierPort}/healthz`).catch(() => undefined)) === undefined, 5000, 20);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${lb}/readyz`);
      expect(res.status).to.equal(503);
      expect(((await res.json()) as { code: string }).code).to.equal('unavailable');
      const price = await fetch(`${lb}/price?symbol=BTC`, { headers: { authorization: 'Bearer x.y.z' } });
      expect(price.status, 'a protected route while no replica has the key stream').to.equal(503);
    }
    children[1]!.kill('SIGKILL');
    await waitFor(async () => (await fetch(`http://${REPLICAS[1]}:${verifierPort}/healthz`).catch(() => undefined)) === undefined, 5000, 20);
    const none = await fetch(`${lb}/price?symbol=BTC`);
    expect(none.status, 'no replica running at all').to.equal(503);
    expect(none.headers.get('content-type')).to.equal('application/problem+json');
    expect(((await none.json()) as { code: string }).code).to.equal('unavailable');
  });
});
