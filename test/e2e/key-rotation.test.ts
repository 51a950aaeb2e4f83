import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { createSigner, signKey } from '../../verifier/test/support/signing.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

const shown = (res: { status: number; text: string }) => `HTTP ${res.status}: ${res.text}`;

describe('e2e: signing-key rotation without a refusal window (real issuer, two verifiers on its JWKS URL)', () => {
  const e2e = useWiredVerifiers({ name: 'verifier-rotation', verifiers: 2 });
  async function mint(): Promise<string> {
    const i = e2e.issuer;
    const res = await request(i.url).post('/admin/keys').set('Authorization', `Bearer ${await i.adminToken()}`).send({ sub: 'rita' });
    expect(res.status, shown(res)).to.equal(201);
    return res.body.key as string;
  }
  const everyVerifier = (key: string) =>
    Promise.all(e2e.verifiers.map((v) => request(v.service.url).get('/price?symbol=BTC').set('Authorization', `Bearer ${key}`)));

  it('a key minted right after a rotation is accepted by every verifier at once, although a made-up kid had put their refetch in its cool-down', async () => {
    // Both verifiers hold the issuer's keys (a key they accept), then see a key with a kid nobody
    // published: each refetches at most once per cool-down (30 s), so for the next half minute an
    // unknown kid is refused without asking the issuer again.
    for (const res of await everyVerifier(await mint())) expect(res.status, shown(res)).to.equal(200);
    const bogus = (await signKey(await createSigner())).token;
    for (const res of await everyVerifier(bogus)) expect(res.status, shown(res)).to.equal(401);

    const rotated = await request(e2e.issuer.url).post('/admin/signing-keys/rotate').set('Authorization', `Bearer ${await e2e.issuer.adminToken()}`);
    expect(rotated.status, shown(rotated)).to.equal(201);
    const key = await mint();
    expect(decodeProtectedHeader(key).kid, 'signed by the rotated-to key').to.equal(rotated.body.kid);

    const answers = await everyVerifier(key);

    for (const res of answers) expect(res.status, shown(res)).to.equal(200);
  });
});
