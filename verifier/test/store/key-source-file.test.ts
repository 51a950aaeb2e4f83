import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { JSONWebKeySet } from 'jose';
import { checkApiKey } from '@akm/common';
import { loadKeySourceFile, type KeySource } from '../../src/store/key-source.js';
import { waitFor } from '../../../test/support/processes.js';
import { createSigner, signKey, type TestSigner } from '../support/signing.js';

describe('key source from a JWKS file', () => {
  let dir: string;
  let file: string;
  let oldSigner: TestSigner;
  let newSigner: TestSigner;
  let source: KeySource | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'akm-jwks-'));
    file = join(dir, 'jwks.json');
    oldSigner = await createSigner();
    newSigner = await createSigner();
    writeFileSync(file, JSON.stringify(oldSigner.jwks));
  });
  afterEach(() => {
    source?.close?.();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const accepts = async (signer: TestSigner) =>
    (await checkApiKey((await signKey(signer)).token, source!.getKey, { issuer: 'akm', audience: 'akm-api' })).ok;
  /** Replaces the file as a deploy does: a new file renamed over the old one. */
  const replace = (jwks: JSONWebKeySet) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(jwks));
    renameSync(`${file}.tmp`, file);
  };
  const rotated = () => ({ keys: [...oldSigner.jwks.keys, ...newSigner.jwks.keys] });

  it('after a rotation and a new file (renamed over the old one), accepts keys of the new signing key without a restart', async () => {
    source = await loadKeySourceFile(file);
    expect(await accepts(newSigner), 'not published yet').to.equal(false);
    replace(rotated());
    await waitFor(() => accepts(newSigner), 2000);
    expect(await accepts(oldSigner), 'the old key stays while it is in the file').to.equal(true);
    replace(newSigner.jwks);
    await waitFor(async () => !(await accepts(oldSigner)), 2000);
  });

  it('with watching off, reload() reads the file again (what SIGHUP does)', async () => {
    source = await loadKeySourceFile(file, { watch: false, unknownKidCheckMs: 3_600_000 });
    expect(await accepts(newSigner)).to.equal(false);
    writeFileSync(file, JSON.stringify(rotated()));
    expect(await accepts(newSigner), 'no watcher and no check: still the old keys').to.equal(false);
    expect(await source.reload!()).to.equal(true);
    expect(await accepts(newSigner)).to.equal(true);
  });

  it('with watching off, an unknown kid makes it look at the file, and read it when it changed', async () => {
    source = await loadKeySourceFile(file, { watch: false, unknownKidCheckMs: 0 });
    writeFileSync(file, JSON.stringify(rotated()));
    expect(await accepts(newSigner)).to.equal(true);
  });

  it('when the new file cannot be read or is no JWKS, keeps the keys it had and says why', async () => {
    const errors: string[] = [];
    source = await loadKeySourceFile(file, { watch: false, onReloadError: (d) => errors.push(d) });
    writeFileSync(file, '{"keys": [');
    expect(await source.reload!()).to.equal(false);
    writeFileSync(file, '{"nokeys": []}');
    expect(await source.reload!()).to.equal(false);
    expect(await accepts(oldSigner)).to.equal(true);
    expect(errors[0]).to.include(file);
    expect(errors[1]).to.include('has no "keys" array');
  });

  it('refuses to start on a missing or malformed file, naming it', async () => {
    let failure: unknown;
    await loadKeySourceFile(join(dir, 'missing.json')).catch((err: unknown) => (failure = err));
    expect(String(failure)).to.include('missing.json');
  });
});
