/**
 * What docker-compose.yml promises about exposure, read from the file (no Docker engine runs on
 * CI machines): no default admin password, and nothing published beyond this host.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const COMPOSE = readFileSync(join(fileURLToPath(new URL('../../', import.meta.url)), 'docker-compose.yml'), 'utf8');

describe('docker-compose.yml', () => {
  it('refuses to start without AKM_ADMIN_PASSWORD (${…:?…}), and has no default password', () => {
    const lines = COMPOSE.split('\n').filter((l) => /^\s+AKM_ADMIN_PASSWORD:/.test(l));
    expect(lines, 'the issuer takes the first admin password from the environment').to.have.length(1);
    expect(lines[0]).to.match(/:\s*\$\{AKM_ADMIN_PASSWORD:\?[^}]+\}\s*$/);
  });

  it('binds every published port to 127.0.0.1', () => {
    const published = [...COMPOSE.matchAll(/^\s+ports:\s*\[(.*)\]\s*$/gm)].flatMap((m) => m[1]!.split(',').map((p) => p.trim().replace(/^"|"$/g, '')));
    expect(published, 'the issuer and the verifiers are published').to.have.length.at.least(2);
    for (const port of published) expect(port, `published port ${port}`).to.match(/^127\.0\.0\.1:/);
    expect(COMPOSE, 'no list-style port entries the check above would miss').to.not.match(/^\s+ports:\s*$/m);
  });
});
