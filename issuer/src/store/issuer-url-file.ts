/**
 * The URL the issuer listens on, recorded in its data directory (`AKM_DATA_DIR/issuer-url`) at
 * every start, so that the CLI run beside it (`akm admin-token --save`, `akm login`) finds it
 * whatever `ISSUER_PORT` and `AKM_HOST` were.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'issuer-url';

/** Records `url` as the URL of the issuer of `dataDir`. */
export function recordIssuerUrl(dataDir: string, url: string): void {
  const path = join(dataDir, FILE);
  writeFileSync(`${path}.tmp`, `${url}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** The URL the issuer of `dataDir` last listened on, or undefined when none is recorded. */
export function readIssuerUrl(dataDir: string): string | undefined {
  try {
    const url = readFileSync(join(dataDir, FILE), 'utf8').trim();
    return URL.canParse(url) ? url : undefined;
  } catch {
    return undefined;
  }
}
