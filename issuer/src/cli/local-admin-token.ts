/**
 * `akm admin-token`: a short-lived admin sign-in token minted straight from the data
 * directory's signing key, for bootstrapping before anyone can sign in.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadIssuerEnv } from '../config.js';
import { LOCAL_ADMIN_SUB, mintSessionToken } from '../domain/session-tokens.js';
import { openSigningKeys } from '../domain/signing-keys.js';
import { openDatabase } from '../store/database.js';
import { createPrivateKeyFiles } from '../store/private-key-files.js';
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
  const dataDir = resolve(dataDirOverride ?? config.AKM_DATA_DIR);
  if (!existsSync(join(dataDir, 'akm.sqlite'))) {
    throw new CliError(`no issuer data in ${dataDir}: start the issuer first (npm start), or pass --data-dir`);
  }
  const db = openDatabase({ dataDir });
  try {
    const signing = await openSigningKeys({
      records: createSigningKeyRepository(createSqliteClient(db)),
      privateKeys: createPrivateKeyFiles(dataDir),
      keyFile: config.AKM_SIGNING_KEY_FILE,
      now: Date.now,
      sessionTtlSeconds: config.AKM_SESSION_TTL_S,
    });
    return await mintSessionToken({
      signing,
      issuer: config.AKM_ISSUER,
      sub: LOCAL_ADMIN_SUB,
      role: 'admin',
      ttlSeconds: Math.min(ttlSeconds ?? config.AKM_SESSION_TTL_S, MAX_ADMIN_TOKEN_TTL_SECONDS),
      now: Date.now(),
    });
  } finally {
    db.close();
  }
}
