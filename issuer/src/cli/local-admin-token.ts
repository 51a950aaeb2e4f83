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
import { createSigningKeyRepository } from '../store/signing-key-repository.js';
import { CliError } from './cli-error.js';

/** Mints an admin token from the data directory; `ttlSeconds` defaults to AKM_SESSION_TTL_S. */
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
      records: createSigningKeyRepository(db),
      dataDir,
      keyFile: config.AKM_SIGNING_KEY_FILE,
      now: Date.now,
      sessionTtlSeconds: config.AKM_SESSION_TTL_S,
    });
    return await mintSessionToken({
      signing,
      issuer: config.AKM_ISSUER,
      sub: LOCAL_ADMIN_SUB,
      role: 'admin',
      ttlSeconds: ttlSeconds ?? config.AKM_SESSION_TTL_S,
      now: Date.now(),
    });
  } finally {
    db.close();
  }
}
