import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { JWTVerifyGetKey } from 'jose';
import { createMemoryKeyBus, DEFAULT_ISSUER, DEFAULT_KEY_AUDIENCE } from '@akm/common';
import { createKeyStateStore, type KeyStateStore } from '../../src/domain/key-state-store.js';
import { createKeyVerifier, type KeyVerifier } from '../../src/domain/key-verifier.js';
import { createReadiness } from '../../src/domain/readiness.js';
import { createStaticKeySource, type KeySource } from '../../src/store/key-source.js';
import { createSigner, signKey, type SignedKey, type TestSigner } from '../support/signing.js';
import { keyEvent } from '../support/key-events.js';

/** A key source whose `getKey` counts its calls: each call is one signature check. */
function countingKeySource(signer: TestSigner): KeySource & { calls: () => number } {
  const inner = createStaticKeySource(signer.jwks);
  let calls = 0;
  const getKey: JWTVerifyGetKey = (header, token) => {
    calls++;
    return inner.getKey(header, token);
  };
  return { ...inner, getKey, calls: () => calls };
}

describe('key verifier: the verified-key cache', () => {
  let signer: TestSigner;
  let clock: number;

  before(async () => {
    signer = await createSigner();
  });
  beforeEach(() => (clock = Date.now()));

  function verifierWith(cacheSize: number): { verify: KeyVerifier; keys: ReturnType<typeof countingKeySource>; store: KeyStateStore } {
    const keys = countingKeySource(signer);
    const now = () => clock;
    const store = createKeyStateStore({ now, retainSeconds: 300 });
    const readiness = createReadiness({ feed: createMemoryKeyBus().createFeed(), now, maxStalenessSeconds: 300 });
    readiness.markReplayed();
    const verify = createKeyVerifier({
      keys,
      store,
      readiness,
      now,
      issuer: DEFAULT_ISSUER,
      audience: DEFAULT_KEY_AUDIENCE,
      clockToleranceSeconds: 5,
      newKeyGraceSeconds: 300,
      cacheSize,
    });
    return { verify, keys, store };
  }

  const newKey = (): Promise<SignedKey> => signKey(signer, { keyId: `key_${randomUUID().slice(0, 8)}` }, clock);

  async function expectAccepted(verify: KeyVerifier, key: SignedKey) {
    const verdict = await verify(key.token);
    expect(verdict, JSON.stringify(verdict)).to.deep.include({ ok: true });
  }

  it('when the same key string is verified twice with the cache on, checks its signature once', async () => {
    const { verify, keys } = verifierWith(10);
    const key = await newKey();

    await expectAccepted(verify, key);
    await expectAccepted(verify, key);

    expect(keys.calls()).to.equal(1);
  });

  it('when the same key string is verified twice with the cache off (size 0), checks its signature twice', async () => {
    const { verify, keys } = verifierWith(0);
    const key = await newKey();

    await expectAccepted(verify, key);
    await expectAccepted(verify, key);

    expect(keys.calls()).to.equal(2);
  });

  it('when three keys are used in turn with a cache of 2, checks signatures again (the cache is bounded)', async () => {
    const { verify, keys } = verifierWith(2);
    const used = [await newKey(), await newKey(), await newKey()];

    for (let round = 0; round < 3; round++) for (const key of used) await expectAccepted(verify, key);

    // Least recently used goes first: in turn, each key was evicted before it came back.
    expect(keys.calls()).to.equal(9);
  });

  it('when the same three keys are used in turn with a cache of 3, checks each signature once', async () => {
    const { verify, keys } = verifierWith(3);
    const used = [await newKey(), await newKey(), await newKey()];

    for (let round = 0; round < 3; round++) for (const key of used) await expectAccepted(verify, key);

    expect(keys.calls()).to.equal(3);
  });

  it('when a cached key is revoked, refuses it on its next use although its signature is not checked again', async () => {
    const { verify, keys, store } = verifierWith(10);
    const key = await newKey();
    store.apply(keyEvent(key, 'key.created', { version: 1, at: Math.floor(clock / 1000) }));
    await expectAccepted(verify, key);

    store.apply(keyEvent(key, 'key.revoked', { version: 2, at: Math.floor(clock / 1000) }));
    const verdict = await verify(key.token);

    expect(verdict, JSON.stringify(verdict)).to.deep.include({ ok: false, reason: 'revoked', keyId: key.keyId });
    expect(keys.calls(), 'the second verdict came from the cache').to.equal(1);
  });
});
