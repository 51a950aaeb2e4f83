/**
 * A throwaway certificate authority and a server certificate it signed, for tests that run
 * nats-server or redis-server over TLS on loopback. Made with openssl (Debian's `openssl`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of a test CA and of a server certificate for 127.0.0.1 and localhost. */
export interface TestCertificates {
  dir: string;
  /** The CA's certificate: what clients trust. */
  caFile: string;
  /** The server's certificate and private key. */
  certFile: string;
  keyFile: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaFile: string;
  /** Removes the files. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl not found: install it (apt-get install -y openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

const newCa = (dir: string, name: string) =>
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`]);

/** Creates a CA, a server certificate signed by it (valid one day), and an unrelated CA. */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'akm-tls-'));
  newCa(dir, 'akm-test-ca');
  newCa(dir, 'other-ca');
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', 'server-key.pem', '-out', 'server.csr']);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'akm-test-ca.pem', '-CAkey', 'akm-test-ca-key.pem', '-CAcreateserial',
    '-days', '1', '-extfile', 'san.cnf', '-out', 'server.pem']);
  return {
    dir,
    caFile: join(dir, 'akm-test-ca.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
