/**
 * Signing key records in SQLite (the public halves; private keys stay in files).
 */
import type { SigningKeyRecord, SigningKeyRepository } from '../domain/signing-key-record.js';
import type { Db } from './database.js';

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

/** Creates the signing key repository over an open database. */
export function createSigningKeyRepository(db: Db): SigningKeyRepository {
  const all = db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at');
  const insert = db.prepare('INSERT OR IGNORE INTO signing_keys (kid, public_jwk, created_at) VALUES (?, ?, ?)');
  const activate = db.prepare(
    'UPDATE signing_keys SET activated_at = coalesce(activated_at, ?), retired_at = NULL WHERE kid = ?',
  );
  // Retires the other current keys only: the next key stays published.
  const retireOthers = db.prepare(
    'UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND activated_at IS NOT NULL AND kid != ?',
  );
  const extend = db.prepare('UPDATE signing_keys SET max_exp = max(max_exp, ?) WHERE kid = ?');
  const current = db.prepare<[], { kid: string }>(
    'SELECT kid FROM signing_keys WHERE retired_at IS NULL AND activated_at IS NOT NULL ORDER BY activated_at DESC LIMIT 1',
  );
  const next = db.prepare<[], { kid: string }>(
    'SELECT kid FROM signing_keys WHERE retired_at IS NULL AND activated_at IS NULL ORDER BY created_at DESC LIMIT 1',
  );
  // A replaced next key (its private half lost) is retired like any other: published a while longer, then gone.
  const retireOtherNext = db.prepare(
    'UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND activated_at IS NULL AND kid != ?',
  );
  const prepublish = db.transaction((kid: string, publicJwk: string, nowMs: number) => {
    insert.run(kid, publicJwk, nowMs);
    retireOtherNext.run(nowMs, kid);
  });
  const adopt = db.transaction((kid: string, publicJwk: string, nowMs: number) => {
    insert.run(kid, publicJwk, nowMs);
    activate.run(nowMs, kid);
    retireOthers.run(nowMs, kid);
  });
  return {
    all: () => all.all().map(toRecord),
    currentKid: () => current.get()?.kid,
    nextKid: () => next.get()?.kid,
    adopt: (kid, publicJwk, nowMs) => adopt.immediate(kid, publicJwk, nowMs),
    prepublish: (kid, publicJwk, nowMs) => prepublish.immediate(kid, publicJwk, nowMs),
    extend: (kid, exp) => void extend.run(exp, kid),
  };
}
