/**
 * `akm admin-token`: a short-lived admin sign-in token minted straight from the issuer's current
 * signing key (the data directory's, or with `DATABASE_URL` the one sealed in PostgreSQL), for
 * bootstrapping before anyone can sign in.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadIssuerEnv } from '../config.js';
import { LOCAL_ADMIN_SUB, mintSessionToken } from '../domain/session-tokens.js';
import { openSigningKeys } from '../domain/signing-keys.js';
import { openDatabase } from '../store/database.js';
import type { PrivateSigningKeys } from '../domain/private-signing-keys.js';
import type { SigningKeyRepository } from '../domain/signing-key-record.js';
import { createPostgresClient } from '../store/postgres-client.js';
import { createPrivateKeyFiles } from '../store/private-key-files.js';
import { createPrivateKeyRows } from '../store/private-key-rows.js';
import { createSqliteClient } from '../store/sqlite-client.js';
import { createSigningKeyRepository } from '../store/signing-key-repository.js';
import { CliError } from './cli-error.js';

/**
 * Longest life of an admin token minted from the data directory, in seconds. Such a token names
 * no user, so no password change or demotion ends it, and its signing key stays in the JWKS
 * while it lives: it must be short.
 */
export const MAX_ADMIN_TOKEN_TTL_SECONDS = 3600;

/**
 * Mints an admin token from the data directory; `ttlSeconds` (at most
 * {@link MAX_ADMIN_TOKEN_TTL_SECONDS}) defaults to AKM_SESSION_TTL_S within that bound.
 */
export async function mintLocalAdminToken(
  env: NodeJS.ProcessEnv,
  dataDirOverride?: string,
  ttlSeconds?: number,
): Promise<{ token: string; expiresAt: number }> {
  const config = loadIssuerEnv(env);
  const mint = async (records: SigningKeyRepository, privateKeys: PrivateSigningKeys) => {
    // Only an issuer makes signing keys: without one there is nothing to sign with yet.
    if (!(await records.currentKid())) throw new CliError('no signing key yet: start the issuer first');
    const signing = await openSigningKeys({
      records,
      privateKeys,
      keyFile: config.AKM_SIGNING_KEY_FILE,
      now: Date.now,
      sessionTtlSeconds: config.AKM_SESSION_TTL_S,
    });
    return mintSessionToken({
      signing,
      issuer: config.AKM_ISSUER,
      sub: LOCAL_ADMIN_SUB,
      role: 'admin',
      ttlSeconds: Math.min(ttlSeconds ?? config.AKM_SESSION_TTL_S, MAX_ADMIN_TOKEN_TTL_SECONDS),
      now: Date.now(),
    });
  };
  if (config.DATABASE_URL) {
    // The issuers' PostgreSQL: the current key is sealed there under AKM_MASTER_KEY.
    const client = createPostgresClient({ url: config.DATABASE_URL });
    try {
      return await mint(createSigningKeyRepository(client), createPrivateKeyRows(client, config.AKM_MASTER_KEY ?? ''));
    } finally {
      await client.close();
    }
  }
  const dataDir = resolve(dataDirOverride ?? config.AKM_DATA_DIR);
  if (!existsSync(join(dataDir, 'akm.sqlite'))) {
    throw new CliError(`no issuer data in ${dataDir}: start the issuer first (npm start), or pass --data-dir`);
  }
  const db = openDatabase({ dataDir });
  try {
    return await mint(createSigningKeyRepository(createSqliteClient(db)), createPrivateKeyFiles(dataDir));
  } finally {
    db.close();
  }
}
