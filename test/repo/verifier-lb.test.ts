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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, ensureKeyStream } from '@akm/common';
import { createSigner } from '../../verifier/test/support/signing.js';
import { startVerifierProcess, type AkmProcess } from '../support/akm-processes.js';
import { startComposeLb, startDns, type ComposeLb, type StubDns } from '../support/compose-dns.js';
import { freePort, startNats, waitFor, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';

const REPLICAS = ['127.0.0.2', '127.0.0.3'];

describe('the verifiers\' load balancer (nginx, as compose runs it)', function () {
  this.timeout(60_000);
  let dir: string | undefined;
  let nats: TestServer | undefined;
  let balancer: ComposeLb | undefined;
  let dns: StubDns | undefined;
  const replicas: AkmProcess[] = [];
  let lb: string;
  let verifierPort: number;

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
      replicas.push(
        await startVerifierProcess({
          name: `verifier-${host}`,
          logDir: join(dir, 'logs'),
          host,
          port: verifierPort,
          natsUrl: nats.url,
          env: { AKM_JWKS_FILE: jwks, AKM_STREAM: i === 0 ? 'AKM_KEYS' : 'AKM_KEYS_NEVER_CREATED', LOG_LEVEL: 'warn' },
        }),
      );
    }
    await waitFor(async () => (await fetch(`${replicas[0]!.url}/readyz`)).status === 200, 15_000, 50);

    dns = await startDns('verifier', REPLICAS);
    balancer = await startComposeLb('deploy/nginx/verifier-lb.conf', 'verifier', 8081, dns, verifierPort);
    lb = balancer.nginx.url;
  });

  after(() =>
    stopEach(
      ...replicas.map((replica) => () => replica.kill()),
      () => balancer?.nginx.destroy(),
      () => dns?.close(),
      () => nats?.destroy(),
      () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );


  it('spreads requests over every replica from one address', async () => {
    const before = balancer!.upstreamsUsed().length;
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${lb}/healthz`);
      expect(res.status, balancer!.errors()).to.equal(200);
    }
    const used = balancer!.upstreamsUsed().slice(before).join('\n');
    for (const host of REPLICAS) expect(used, `requests reached ${host}`).to.include(`${host}:${verifierPort}`);
  });

  it('skips a replica that answers 503 (not replayed, or stale) for one that is ready', async () => {
    // nginx tries the replicas in a random order: in 16 requests the unready one comes first at
    // least once, but for a chance of 1 in 65,536.
    for (let i = 0; i < 16; i++) {
      const res = await fetch(`${lb}/readyz`);
      expect(res.status, `${balancer!.upstreamsUsed().slice(-1)[0]} ${balancer!.errors()}`).to.equal(200);
    }
    expect(balancer!.upstreamsUsed().join('\n'), 'the unready replica was asked, then skipped').to.include(`${REPLICAS[1]}:${verifierPort}, ${REPLICAS[0]}:${verifierPort}`);
  });

  it('answers 503 unavailable when no replica is ready or none is running (fails closed)', async () => {
    await replicas[0]!.kill();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${lb}/readyz`);
      expect(res.status).to.equal(503);
      expect(((await res.json()) as { code: string }).code).to.equal('unavailable');
      const price = await fetch(`${lb}/price?symbol=BTC`, { headers: { authorization: 'Bearer x.y.z' } });
      expect(price.status, 'a protected route while no replica has the key stream').to.equal(503);
    }
    await replicas[1]!.kill();
    const none = await fetch(`${lb}/price?symbol=BTC`);
    expect(none.status, 'no replica running at all').to.equal(503);
    expect(none.headers.get('content-type')).to.equal('application/problem+json');
    expect(((await none.json()) as { code: string }).code).to.equal('unavailable');
  });
});
