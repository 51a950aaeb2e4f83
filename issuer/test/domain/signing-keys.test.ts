import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair } from 'jose';
import { openSigningKeys } from '../../src/domain/signing-keys.js';
import { openDatabase } from '../../src/store/database.js';
import { createSigningKeyRepository } from '../../src/store/signing-key-repository.js';

describe('issuer: signing keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-signing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (now = () => Date.now(), keyFile?: string) => {
    const db = openDatabase({ dataDir: dir });
    return { db, keysP: openSigningKeys({ records: createSigningKeyRepository(db), dataDir: dir, now, sessionTtlSeconds: 900, keyFile }) };
  };

  it('generates an Ed25519 key on first start into a 0600 file and loads the same key on the next start', async () => {
    const first = open();
    const kid = (await first.keysP).currentKid();
    first.db.close();
    const files = readdirSync(join(dir, 'signing'));
    expect(files).to.deep.equal([`${kid}.jwk`]);
    expect(statSync(join(dir, 'signing', files[0]!)).mode & 0o777).to.equal(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'signing', files[0]!), 'utf8'))).to.include({ crv: 'Ed25519', kty: 'OKP' });
    const second = open();
    expect((await second.keysP).currentKid()).to.equal(kid);
    second.db.close();
  });

  it('signs with a configured PKCS#8 key file instead of generating one', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const file = join(dir, 'key.pem');
    writeFileSync(file, await exportPKCS8(pair.privateKey), { mode: 0o600 });
    const { db, keysP } = open(undefined, file);
    const keys = await keysP;
    expect(keys.jwks().keys).to.have.length(1);
    expect(readdirSync(dir)).to.not.include('signing');
    db.close();
  });

  it('keeps a retired key in the JWKS until the last token it signed has expired', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    await keys.sign({ sub: 'x', exp: Math.floor(clock / 1000) + 3600 }, 'akm-key+jwt');
    const fresh = await keys.rotate();
    const kids = () => keys.jwks().keys.map((k) => k.kid);
    expect(kids()).to.have.members([old, fresh]);
    clock += 3601_000;
    expect(kids()).to.deep.equal([fresh]);
    for (const key of keys.jwks().keys) expect(key).to.not.have.property('d');
    db.close();
  });

  it('keeps a retired key past the sign-in lifetime (900 s) while a key token it signed is still live', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    await keys.sign({ sub: 'x', exp: Math.floor(clock / 1000) + 3600 }, 'akm-key+jwt');
    const fresh = await keys.rotate();
    const kids = () => keys.jwks().keys.map((k) => k.kid);
    clock += 1800_000; // past the 900 s kept for sign-in tokens, before the key token's exp
    expect(kids(), 'the old key still verifies the live token').to.have.members([old, fresh]);
    clock += 1801_000;
    expect(kids()).to.deep.equal([fresh]);
    db.close();
  });

  it('keeps a retired key that signed no key token only as long as a sign-in token lives (900 s)', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    const fresh = await keys.rotate();
    const kids = () => keys.jwks().keys.map((k) => k.kid);
    clock += 890_000;
    expect(kids(), 'a sign-in token signed just before the rotation still verifies').to.have.members([old, fresh]);
    clock += 20_000; // 910 s after the rotation (and past the 10 s JWKS cache)
    expect(kids()).to.deep.equal([fresh]);
    db.close();
  });

  it('extendKey keeps a retired key published until the later expiry it records', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    const t0 = Math.floor(clock / 1000);
    await keys.sign({ sub: 'x', exp: t0 + 3600 }, 'akm-key+jwt');
    const fresh = await keys.rotate();
    keys.extendKey(old, t0 + 7200); // an admin moved the key's expiry later
    keys.extendKey(old, t0 + 60); // an earlier expiry never shortens what was recorded
    const kids = () => keys.jwks().keys.map((k) => k.kid);
    clock += 3700_000;
    expect(kids()).to.have.members([old, fresh]);
    clock += 3600_000;
    expect(kids()).to.deep.equal([fresh]);
    db.close();
  });
});
