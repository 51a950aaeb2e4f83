import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { checkApiKey } from '../../../common/src/index.js';
import { createRemoteKeySource } from '../../src/store/key-source.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';

describe('remote key source', () => {
  let signer: TestSigner;
  let server: Server;
  let url: string;
  let fetches: number;

  beforeEach(async () => {
    signer = await createSigner();
    fetches = 0;
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(signer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterEach(() => server.close());

  const check = (token: string, getKey: Parameters<typeof checkApiKey>[1]) =>
    checkApiKey(token, getKey, { issuer: 'akm', audience: 'akm-api' });

  it('fetches the issuer keys once and verifies many keys with them', async () => {
    const source = createRemoteKeySource({ url });
    expect(await source.warmUp()).to.equal(true);

    for (let i = 0; i < 5; i++) expect((await check((await signKey(signer)).token, source.getKey)).ok).to.equal(true);

    expect(fetches).to.equal(1);
  });

  it('when the issuer goes away after its keys went stale, keeps verifying with the keys it had', async () => {
    const source = createRemoteKeySource({ url, cacheMaxAgeMs: 1, timeoutMs: 200 });
    await source.warmUp();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const results = [];
    for (let i = 0; i < 3; i++) results.push(await check((await signKey(signer)).token, source.getKey));

    expect(results.map((r) => r.ok)).to.deep.equal([true, true, true]);
  });

  it('when the issuer was never reachable, refuses keys as invalid rather than crashing', async () => {
    const source = createRemoteKeySource({ url: 'http://127.0.0.1:9/.well-known/jwks.json', timeoutMs: 200 });
    expect(await source.warmUp()).to.equal(false);

    const result = await check((await signKey(signer)).token, source.getKey);

    expect(result).to.include({ ok: false, reason: 'invalid' });
  });
});
