/**
 * Signing key records (the public halves; private keys stay in files).
 */
import type { SigningKeyRecord, SigningKeyRepository } from '../domain/signing-key-record.js';
import type { SqlClient } from './sql-client.js';

interface SigningKeyRow {
  kid: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
  max_exp: number;
  activated_at: number | null;
}

const toRecord = (r: SigningKeyRow): SigningKeyRecord => ({
  kid: r.kid,
  publicJwk: r.public_jwk,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  maxExp: r.max_exp,
  activatedAt: r.activated_at,
});

/** Creates the signing key repository over a database client. */
export function createSigningKeyRepository(db: SqlClient): SigningKeyRepository {
  const insert = (kid: string, publicJwk: string, nowMs: number) =>
    db.run('INSERT INTO signing_keys (kid, public_jwk, created_at) VALUES (?, ?, ?) ON CONFLICT (kid) DO NOTHING', [kid, publicJwk, nowMs]);
  return {
    all: async () => (await db.all<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at')).map(toRecord),
    currentKid: async () =>
      (
        await db.get<{ kid: string }>(
          'SELECT kid FROM signing_keys WHERE retired_at IS NULL AND activated_at IS NOT NULL ORDER BY activated_at DESC LIMIT 1',
        )
      )?.kid,
    nextKid: async () =>
      (
        await db.get<{ kid: string }>(
          'SELECT kid FROM signing_keys WHERE retired_at IS NULL AND activated_at IS NULL ORDER BY created_at DESC LIMIT 1',
        )
      )?.kid,
    adopt: (kid, publicJwk, nowMs) =>
      db.transaction(async () => {
        await insert(kid, publicJwk, nowMs);
        await db.run('UPDATE signing_keys SET activated_at = coalesce(activated_at, ?), retired_at = NULL WHERE kid = ?', [nowMs, kid]);
        // Retires the other current keys only: the next key stays published.
        await db.run('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND activated_at IS NOT NULL AND kid != ?', [nowMs, kid]);
      }),
    prepublish: (kid, publicJwk, nowMs) =>
      db.transaction(async () => {
        await insert(kid, publicJwk, nowMs);
        // A replaced next key (its private half lost) is retired like any other: published a while longer, then gone.
        await db.run('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND activated_at IS NULL AND kid != ?', [nowMs, kid]);
      }),
    async extend(kid, exp) {
      await db.run('UPDATE signing_keys SET max_exp = ? WHERE kid = ? AND max_exp < ?', [exp, kid, exp]);
    },
  };
}
