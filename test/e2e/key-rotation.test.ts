import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { createLogger } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import type { VerifierRuntime } from '@akm/verifier/service';
import { createSigner, signKey } from '../../verifier/test/support/signing.js';
import { startNats, type TestServer } from '../support/processes.js';
import { stopEach } from '../support/teardown.js';
import { startWiredVerifier } from '../support/wired-verifier.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;

describe('e2e: signing-key rotation without a refusal window (real issuer, two verifiers on its JWKS URL)', () => {
  let nats: TestServer | undefined;
  let dataDir: string | undefined;
  let issuer: RunningIssuer | undefined;
  const verifiers: VerifierRuntime[] = [];

  before(async function () {
    this.timeout(30_000);
    nats = await startNats();
    dataDir = mkdtempSync(join(tmpdir(), 'akm-e2e-rotation-'));
    issuer = await startIssuer({
      dataDir, port: 0, natsUrl: nats.url, logger: createLogger({ name: 'issuer', level: 'silent' }), onGeneratedAdminPassword: () => {},
    });
    for (let i = 0; i < 2; i++) {
      verifiers.push(await startWiredVerifier({ issuerUrl: issuer.url, natsUrl: nats.url, name: `verifier-rotation-${i}` }));
    }
    await Promise.all(verifiers.map((v) => v.service.ready));
  });
  after(() =>
    stopEach(
      ...verifiers.map((v) => () => v.stop()),
      () => issuer?.stop(),
      () => nats?.destroy(),
      () => dataDir && rmSync(dataDir, { recursive: true, force: true }),
    ),
  );

  const started = () => {
    if (!issuer) throw new Error('the issuer did not start');
    return issuer;
  };
  async function mint(): Promise<string> {
    const i = started();
    const res = await request(i.url).post('/admin/keys').set('Authorization', `Bearer ${await i.adminToken()}`).send({ sub: 'rita' });
    expect(res.status, shown(res)).to.equal(201);
    return res.body.key as string;
  }
  const everyVerifier = (key: string) =>
    Promise.all(verifiers.map((v) => request(v.service.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${key}`)));

  it('a key minted right after a rotation is accepted by every verifier at once, although a made-up kid had put their refetch in its cool-down', async () => {
    // Both verifiers hold the issuer's keys (a key they accept), then see a key with a kid nobody
    // published: each refetches at most once per cool-down (30 s), so for the next half minute an
    // unknown kid is refused without asking the issuer again.
    for (const res of await everyVerifier(await mint())) expect(res.status, shown(res)).to.equal(200);
    const bogus = (await signKey(await createSigner())).token;
    for (const res of await everyVerifier(bogus)) expect(res.status, shown(res)).to.equal(401);

    const rotated = await request(started().url).post('/admin/signing-keys/rotate').set('Authorization', `Bearer ${await started().adminToken()}`);
    expect(rotated.status, shown(rotated)).to.equal(201);
    const key = await mint();
    expect(decodeProtectedHeader(key).kid, 'signed by the rotated-to key').to.equal(rotated.body.kid);

    const answers = await everyVerifier(key);

    for (const res of answers) expect(res.status, shown(res)).to.equal(200);
  });
});
