/**
 * Private signing keys as files: `signing/<kid>.jwk` in the data directory, mode 0600 in a 0700
 * directory (the embedded default, one issuer per data directory).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { PrivateSigningKeys } from '../domain/private-signing-keys.js';

/** Creates the file store of private signing keys under `dataDir`. */
export function createPrivateKeyFiles(dataDir: string): PrivateSigningKeys {
  const dir = join(dataDir, 'signing');
  const fileOf = (kid: string) => join(dir, `${kid}.jwk`);
  return {
    async save(kid, privateJwk) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(fileOf(kid), JSON.stringify({ ...privateJwk, kid }), { mode: 0o600, flag: 'wx' });
      chmodSync(fileOf(kid), 0o600);
    },
    async load(kid) {
      const file = fileOf(kid);
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as JWK) : undefined;
    },
  };
}
