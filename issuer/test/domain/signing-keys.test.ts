import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair } from 'jose';
import { openSigningKeys } from '../../src/domain/signing-keys.js';
import { openDatabase } from '../../src/store/database.js';
import { createSigningKeyRepository } from '../../src/store/signing-key-repository.js';
import { createPrivateKeyFiles } from '../../src/store/private-key-files.js';
import { createSqliteClient } from '../../src/store/sqlite-client.js';

describe('issuer: signing keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'akm-signing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (now = () => Date.now(), keyFile?: string, prepublishNext = false) => {
    const db = openDatabase({ dataDir: dir });
    return {
      db,
      keysP: openSigningKeys({ records: createSigningKeyRepository(createSqliteClient(db)), privateKeys: createPrivateKeyFiles(dir), now, sessionTtlSeconds: 900, keyFile, prepublishNext }),
    };
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
    expect((await keys.jwks()).keys).to.have.length(1);
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
    const kids = async () => (await keys.jwks()).keys.map((k) => k.kid);
    expect(await kids()).to.have.members([old, fresh]);
    clock += 3601_000;
    expect(await kids()).to.deep.equal([fresh]);
    for (const key of (await keys.jwks()).keys) expect(key).to.not.have.property('d');
    db.close();
  });

  it('keeps a retired key past the sign-in lifetime (900 s) while a key token it signed is still live', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    await keys.sign({ sub: 'x', exp: Math.floor(clock / 1000) + 3600 }, 'akm-key+jwt');
    const fresh = await keys.rotate();
    const kids = async () => (await keys.jwks()).keys.map((k) => k.kid);
    clock += 1800_000; // past the 900 s kept for sign-in tokens, before the key token's exp
    expect(await kids(), 'the old key still verifies the live token').to.have.members([old, fresh]);
    clock += 1801_000;
    expect(await kids()).to.deep.equal([fresh]);
    db.close();
  });

  it('keeps a retired key that signed no key token only as long as a sign-in token lives (900 s)', async () => {
    let clock = Date.now();
    const { db, keysP } = open(() => clock);
    const keys = await keysP;
    const old = keys.currentKid();
    const fresh = await keys.rotate();
    const kids = async () => (await keys.jwks()).keys.map((k) => k.kid);
    clock += 890_000;
    expect(await kids(), 'a sign-in token signed just before the rotation still verifies').to.have.members([old, fresh]);
    clock += 20_000; // 910 s after the rotation (and past the 10 s JWKS cache)
    expect(await kids()).to.deep.equal([fresh]);
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
    const kids = async () => (await keys.jwks()).keys.map((k) => k.kid);
    clock += 3700_000;
    expect(await kids()).to.have.members([old, fresh]);
    clock += 3600_000;
    expect(await kids()).to.deep.equal([fresh]);
    db.close();
  });

  it('verifies a token signed by a key another issuer on the same records made current since it last read them (second later, not ten)', async () => {
    let clock = Date.now();
    const a = open(() => clock);
    const b = open(() => clock);
    const [signer, reader] = [await a.keysP, await b.keysP];
    await reader.jwks(); // the reader's set now holds only the first key, for 10 s
    await signer.rotate(); // no pre-publication: the new key was never in the reader's set
    const token = await signer.sign({ sub: 'x', exp: Math.floor(clock / 1000) + 60 }, 'akm-key+jwt');
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };
    const flat = { payload: token.split('.')[1]!, signature: token.split('.')[2]! };

    let refused: unknown;
    await Promise.resolve(reader.getKey(header, flat)).catch((e: unknown) => (refused = e));
    expect(refused, 'within the cool-down the set is not read again').to.be.instanceOf(Error);

    clock += 1500;
    const key = await reader.getKey(header, flat);
    expect(key, 'the unknown kid made it read the records again').to.be.ok;
    a.db.close();
    b.db.close();
  });

  describe('pre-publication (the issuer keeps a next key)', () => {
    it('publishes a next key that signs nothing; a rotation makes it current and publishes a new next one', async () => {
      const { db, keysP } = open(Date.now, undefined, true);
      const keys = await keysP;
      const current = keys.currentKid();
      const next = await keys.nextKid();
      expect(next).to.be.a('string').and.not.equal(current);
      expect((await keys.jwks()).keys.map((k) => k.kid)).to.have.members([current, next]);
      const token = await keys.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60 }, 'akm-key+jwt');
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, 'signed by the current key').to.equal(current);

      const rotated = await keys.rotate();

      expect(rotated, 'the key that was published beforehand').to.equal(next);
      expect(keys.currentKid()).to.equal(next);
      const newNext = await keys.nextKid();
      expect(newNext).to.be.a('string').and.not.be.oneOf([current, next]);
      expect((await keys.jwks()).keys.map((k) => k.kid)).to.have.members([current, next, newNext]);
      db.close();
    });

    it('keeps the same next key across a restart, its private half in a 0600 file', async () => {
      const first = open(Date.now, undefined, true);
      const next = await (await first.keysP).nextKid();
      first.db.close();
      expect(statSync(join(dir, 'signing', `${next}.jwk`)).mode & 0o777).to.equal(0o600);

      const second = open(Date.now, undefined, true);
      const keys = await second.keysP;

      expect(await keys.nextKid()).to.equal(next);
      expect(await keys.rotate()).to.equal(next);
      second.db.close();
    });

    it('replaces a next key whose private file is gone, and retires the lost one from the JWKS after a sign-in lifetime', async () => {
      let clock = Date.now();
      const first = open(() => clock, undefined, true);
      const lost = await (await first.keysP).nextKid();
      first.db.close();
      rmSync(join(dir, 'signing', `${lost}.jwk`));

      const second = open(() => clock, undefined, true);
      const keys = await second.keysP;

      const replacement = await keys.nextKid();
      expect(replacement).to.be.a('string').and.not.equal(lost);
      clock += 910_000;
      expect((await keys.jwks()).keys.map((k) => k.kid)).to.have.members([keys.currentKid(), replacement]);
      expect(await keys.rotate(), 'the rotation signs with a key it holds').to.equal(replacement);
      second.db.close();
    });

    it('a reader that does not pre-publish (akm admin-token) leaves the next key alone and signs with the current one', async () => {
      const issuer = open(Date.now, undefined, true);
      const keys = await issuer.keysP;
      const [current, next] = [keys.currentKid(), await keys.nextKid()];
      issuer.db.close();

      const reader = open();
      const read = await reader.keysP;

      expect([read.currentKid(), await read.nextKid()]).to.deep.equal([current, next]);
      reader.db.close();
    });
  });
});
