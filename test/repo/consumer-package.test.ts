/**
 * `@akm/verifier` as another team gets it: `npm pack` of `@akm/common` and `@akm/verifier`,
 * installed with express and ioredis into an empty project, which then builds a small Express
 * service guarded by `protect()` with its own strict tsconfig and runs it with plain `node`
 * (no tsx) against a real issuer, nats-server and redis-server.
 */
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import { freePort, startNats, startRedis, waitFor, type TestServer } from '../support/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** The repository's own versions, so the install agrees with what akm is tested with. */
const versionOf = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

const SERVICE = `import express from 'express';
import { Redis } from 'ioredis';
import {
  connectNats,
  createJetStreamKeyFeed,
  createRedisRateLimiter,
  createRemoteKeySource,
  createVerifier,
  REDIS_CLIENT_OPTIONS,
  verifiedKeyOf,
  type VerifiedKey,
} from '@akm/verifier';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(name + ' is required');
  return value;
};

const nc = await connectNats({ url: env('NATS_URL'), name: 'orders' });
const redis = new Redis(env('REDIS_URL'), REDIS_CLIENT_OPTIONS);
redis.on('error', () => undefined);
const verifier = createVerifier({
  keys: createRemoteKeySource({ url: env('ISSUER_URL') + '/.well-known/jwks.json' }),
  feed: createJetStreamKeyFeed({ nc }),
  limiter: createRedisRateLimiter({ redis, keyPrefix: env('KEY_PREFIX') }),
});

const app = express();
app.get('/orders', verifier.protect({ roles: ['user', 'admin'] }), (_req, res) => {
  const key: VerifiedKey = verifiedKeyOf(res);
  res.json({ owner: key.sub, keyId: key.id, role: key.role });
});
await verifier.start();
const server = app.listen(Number(env('PORT')), '127.0.0.1', () => process.stdout.write('listening\\n'));
process.on('SIGTERM', () => {
  server.close();
  void verifier.stop().then(() => nc.drain()).then(() => redis.quit()).then(() => process.exit(0));
});
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    types: ['node'],
    outDir: 'dist',
  },
  include: ['src'],
};

describe('@akm/verifier installed from its tarballs into an empty project', function () {
  this.timeout(60_000);
  let dir: string;
  let nats: TestServer | undefined;
  let redis: TestServer | undefined;
  let issuer: RunningIssuer | undefined;
  let service: ChildProcess | undefined;
  let serviceUrl: string;
  let serviceOutput = '';
  const issuerData = mkdtempSync(join(tmpdir(), 'akm-consumer-issuer-'));

  before(async function () {
    this.timeout(300_000);
    for (const pkg of ['common', 'verifier']) {
      expect(existsSync(join(ROOT, pkg, 'dist', 'index.js')), `${pkg}/dist is missing: run npm run build`).to.equal(true);
    }
    dir = mkdtempSync(join(tmpdir(), 'akm-consumer-'));
    const packed = await run('npm', ['pack', '-w', 'common', '-w', 'verifier', '--pack-destination', dir, '--json'], { cwd: ROOT });
    const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) => p.filename);
    expect(tarballs).to.have.length(2);
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'orders-service',
        private: true,
        type: 'module',
        dependencies: {
          '@akm/common': `file:./${tarballs.find((t) => t.includes('common'))}`,
          '@akm/verifier': `file:./${tarballs.find((t) => t.includes('verifier'))}`,
          express: versionOf('express'),
          ioredis: versionOf('ioredis'),
        },
        devDependencies: { '@types/express': versionOf('@types/express'), '@types/node': versionOf('@types/node') },
      }),
    );
    // The registry may be out of reach on a CI machine: the packages are then taken from npm's
    // cache, which the repository's own `npm ci` filled with the same versions.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: 240_000 });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'server.ts'), SERVICE);

    [nats, redis] = await Promise.all([startNats(), startRedis()]);
    issuer = await startIssuer({
      dataDir: issuerData,
      port: 0,
      natsUrl: nats.url,
      adminPassword: 'consumer test password',
      logger: createLogger({ name: 'issuer', level: 'silent' }),
    });
  });

  after(async () => {
    service?.kill('SIGKILL');
    await issuer?.stop();
    await Promise.all([nats?.destroy(), redis?.destroy()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(issuerData, { recursive: true, force: true });
  });

  it('installs neither better-sqlite3, commander, tsx nor @akm/issuer', () => {
    const installed = (name: string) => existsSync(join(dir, 'node_modules', name));
    expect(installed('@akm/verifier') && installed('@akm/common'), 'the packages themselves').to.equal(true);
    for (const name of ['better-sqlite3', 'commander', 'tsx', 'esbuild', '@akm/issuer']) {
      expect(installed(name), `${name} is installed`).to.equal(false);
    }
    expect(readdirSync(join(dir, 'node_modules', '@akm')).sort()).to.deep.equal(['common', 'verifier']);
  });

  it('type-checks the service with strict, exactOptionalPropertyTypes and noPropertyAccessFromIndexSignature against the shipped .d.ts', async () => {
    const tsc = (...args: string[]) =>
      run(process.execPath, [TSC, '--noEmit', '-p', dir, ...args], { cwd: dir }).then(
        () => [] as string[],
        (err: { stdout: string }) => err.stdout.split('\n').filter((line) => /error TS\d+/.test(line)),
      );
    expect(await tsc(), 'tsc --noEmit, skipLibCheck as most projects set it').to.deep.equal([]);
    // Declarations checked too: akm's own .d.ts must hold under these flags. Other packages'
    // (@nats-io's classes under exactOptionalPropertyTypes) are theirs to fix, not ours.
    const ours = (await tsc('--skipLibCheck', 'false')).filter((line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/@akm/'));
    expect(ours, 'errors in the service or in @akm/*.d.ts').to.deep.equal([]);
  });

  it('under plain node, serves a valid key and refuses it once revoked', async () => {
    await run(process.execPath, [TSC, '-p', dir], { cwd: dir });
    const port = await freePort();
    serviceUrl = `http://127.0.0.1:${port}`;
    // No --import, no NODE_OPTIONS: the service runs on the shipped JavaScript alone.
    service = spawn(process.execPath, [join(dir, 'dist', 'server.js')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        NATS_URL: nats!.url,
        REDIS_URL: redis!.url,
        ISSUER_URL: issuer!.url,
        KEY_PREFIX: `consumer-${port}`,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));
    await waitFor(() => serviceOutput.includes('listening') || service?.exitCode !== null, 20_000, 50);
    expect(serviceOutput, 'the service started').to.include('listening');

    const admin = await issuer!.adminToken();
    const created = await fetch(`${issuer!.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'orders-client', role: 'user', rateLimit: 100, ttl: 3600 }),
    });
    expect(created.status).to.equal(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    const orders = () => fetch(`${serviceUrl}/orders`, { headers: { authorization: `Bearer ${key}` } });

    const served = await orders();
    const body = await served.text();
    expect(served.status, body).to.equal(200);
    expect(JSON.parse(body)).to.deep.equal({ owner: 'orders-client', keyId: id, role: 'user' });
    expect(served.headers.get('ratelimit-policy'), 'RateLimit headers from the shared limiter').to.equal('"default";q=100;w=60');

    const revoked = await fetch(`${issuer!.url}/admin/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    expect(revoked.status).to.equal(204);
    let last = { status: 0, code: '' };
    await waitFor(async () => {
      const res = await orders();
      last = { status: res.status, code: ((await res.json()) as { code?: string }).code ?? '' };
      return last.status === 401;
    }, 5000, 20).catch(() => undefined);
    expect(last, serviceOutput).to.deep.equal({ status: 401, code: 'key_revoked' });
  });
});
