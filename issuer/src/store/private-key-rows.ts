/**
 * Private signing keys in the database, for replicas: each in its `signing_keys` row, sealed with
 * AES-256-GCM under a key derived from `AKM_MASTER_KEY` (HKDF-SHA256), the kid as associated data
 * so that a sealed key cannot be moved to another row. The database alone reveals no private key;
 * every replica is given the same master key.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { PrivateSigningKeys } from '../domain/private-signing-keys.js';
import type { SqlClient } from './sql-client.js';

const FORMAT = 'a256gcm-v1';

/** A master key that cannot open a sealed signing key (another master key, or a damaged row). */
export class MasterKeyMismatchError extends Error {
  constructor(kid: string, cause: unknown) {
    super(`the private signing key ${kid} in the database does not open with AKM_MASTER_KEY: give every issuer the same master key`, { cause });
    this.name = 'MasterKeyMismatchError';
  }
}

/** Creates the database store of private signing keys, sealed under `masterKey`. */
export function createPrivateKeyRows(db: SqlClient, masterKey: string): PrivateSigningKeys {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(masterKey, 'utf8'), Buffer.alloc(0), 'akm signing keys', 32));
  return {
    async save(kid, privateJwk) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(kid, 'utf8'));
      const sealed = Buffer.concat([cipher.update(JSON.stringify(privateJwk), 'utf8'), cipher.final()]);
      const value = [FORMAT, iv, cipher.getAuthTag(), sealed].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
      await db.run('UPDATE signing_keys SET private_key = ? WHERE kid = ?', [value, kid]);
    },
    async load(kid) {
      const row = await db.get<{ private_key: string | null }>('SELECT private_key FROM signing_keys WHERE kid = ?', [kid]);
      if (!row?.private_key) return undefined;
      const [format, iv, tag, sealed] = row.private_key.split('.');
      if (format !== FORMAT || !iv || !tag || !sealed) throw new MasterKeyMismatchError(kid, new Error(`unknown format ${format}`));
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(kid, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const clear = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]);
        return JSON.parse(clear.toString('utf8')) as JWK;
      } catch (err) {
        throw new MasterKeyMismatchError(kid, err);
      }
    },
  };
}
