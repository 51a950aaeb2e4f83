import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { JSONWebKeySet } from 'jose';
import { checkApiKey } from '@akm/common';
import { createRemoteKeySource } from '../../src/store/key-source.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';

describe('remote key source', () => {
  let signer: TestSigner;
  let server: Server;
  let url: string;
  let fetches: number;
  /** What the issuer's JWKS URL serves at the moment. */
  let served: JSONWebKeySet;

  beforeEach(async () => {
    signer = await createSigner();
    served = signer.jwks;
    fetches = 0;
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(served));
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

  it('when the issuer rotates its signing key, accepts a key signed with the new one by refetching on its unknown kid', async () => {
    // The last fetch is older than the cool-down (0 here, as any fetch is once the cool-down passed).
    const source = createRemoteKeySource({ url, cooldownMs: 0 });
    expect(await source.warmUp()).to.equal(true);
    expect((await check((await signKey(signer)).token, source.getKey)).ok).to.equal(true);
    const rotated = await createSigner();
    served = { keys: [...signer.jwks.keys, rotated.publicJwk] };

    const result = await check((await signKey(rotated)).token, source.getKey);

    expect(result, JSON.stringify(result)).to.include({ ok: true });
    expect(fetches).to.equal(2);
  });

  it('when the issuer rotates its signing key while the fetched keys are stale, accepts a key signed with the new one on first use', async () => {
    // cacheMaxAgeMs 0: the fetched set is stale at once, so each use takes the stale path.
    const source = createRemoteKeySource({ url, cacheMaxAgeMs: 0, cooldownMs: 0 });
    expect(await source.warmUp()).to.equal(true);
    const rotated = await createSigner();
    served = { keys: [...signer.jwks.keys, rotated.publicJwk] };

    const result = await check((await signKey(rotated)).token, source.getKey);

    expect(result, JSON.stringify(result)).to.include({ ok: true });
  });

  it('when the issuer is gone and the fetched keys are stale, refuses unknown kids as invalid and still accepts known ones', async () => {
    const source = createRemoteKeySource({ url, cacheMaxAgeMs: 0, timeoutMs: 200 });
    await source.warmUp();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const forger = await createSigner();

    const unknown = [];
    for (let i = 0; i < 5; i++) unknown.push(await check((await signKey(forger)).token, source.getKey));
    const known = await check((await signKey(signer)).token, source.getKey);

    for (const result of unknown) expect(result, JSON.stringify(result)).to.include({ ok: false, reason: 'invalid' });
    expect(known, JSON.stringify(known)).to.include({ ok: true });
  });

  it('when many keys with random unknown kids arrive within the cool-down, fetches the issuer keys no more than once', async () => {
    const source = createRemoteKeySource({ url, cooldownMs: 60_000 });
    const forger = await createSigner();
    expect((await check((await signKey(signer)).token, source.getKey)).ok, 'first key, first fetch').to.equal(true);

    const results = [];
    for (let i = 0; i < 50; i++) {
      results.push(await check((await signKey(forger, { kid: `unknown-${i}-${Math.random()}` })).token, source.getKey));
    }

    for (const result of results) expect(result, JSON.stringify(result)).to.include({ ok: false, reason: 'invalid' });
    expect(fetches).to.equal(1);
  });
});
