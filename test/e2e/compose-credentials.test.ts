/**
 * docker-compose.yml cannot run here (no Docker), so this keeps its credentials honest another
 * way: the NATS users and password variables it passes are those deploy/nats/nats-server.conf
 * defines, and a real redis-server started with the compose file's own ACL arguments lets the
 * issuer run its pool and the verifiers count — each with its own user, confined to its keys.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import request from 'supertest';
import { createLogger, createMemoryKeyBus } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import { createStaticKeySource } from '@akm/verifier';
import { createVerifierRuntime, type VerifierRuntime } from '@akm/verifier/service';
import { startRedis, waitFor, type TestServer } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const natsConfig = readFileSync(join(ROOT, 'deploy/nats/nats-server.conf'), 'utf8');

/** The lines of one compose service. */
function serviceBlock(name: string): string {
  const match = new RegExp(`^ {2}${name}:\\n((?: {4}.*\\n|\\n)*)`, 'm').exec(compose);
  if (!match) throw new Error(`no service ${name} in docker-compose.yml`);
  return match[1]!;
}
const envOf = (service: string, variable: string) => new RegExp(`^ {6}${variable}: (.*)$`, 'm').exec(serviceBlock(service))?.[1];
/** Replaces `${NAME...}` as compose would, from `values`. */
const interpolate = (text: string, values: Record<string, string>) =>
  text.replace(/\$\{([A-Z_]+)(?::\?[^}]*)?\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`compose variable ${name} has no test value`);
    return values[name]!;
  });

describe('docker-compose.yml credentials, checked against the real servers it configures', () => {
  it('runs nats-server with the shipped configuration and gives it the password variables it reads', () => {
    const nats = serviceBlock('nats');
    expect(nats).to.include('"-c", "/etc/nats/nats-server.conf"');
    expect(nats).to.include('./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro');
    const wanted = [...natsConfig.matchAll(/password: \$([A-Z_]+)/g)].map((m) => m[1]!);
    expect(wanted).to.deep.equal(['AKM_NATS_ISSUER_PASSWORD', 'AKM_NATS_VERIFIER_PASSWORD']);
    for (const variable of wanted) expect(envOf('nats', variable), variable).to.equal(`\${${variable}:?set ${variable}}`);
  });

  it('connects the issuer and the verifiers as the users the configuration defines, with their passwords', () => {
    const users = [...natsConfig.matchAll(/\{ user: "([a-z-]+)", password: \$([A-Z_]+)/g)].map((m) => [m[1], m[2]]);
    expect(users).to.deep.equal([
      ['akm-issuer', 'AKM_NATS_ISSUER_PASSWORD'],
      ['akm-verifier', 'AKM_NATS_VERIFIER_PASSWORD'],
    ]);
    for (const [service, [user, variable]] of [['issuer', users[0]!], ['verifier', users[1]!]] as const) {
      expect(envOf(service, 'NATS_USER'), service).to.equal(user);
      expect(envOf(service, 'NATS_PASSWORD'), service).to.equal(`\${${variable}}`);
    }
  });

  describe('Redis with the compose ACL', function () {
    this.timeout(60_000);
    const passwords = {
      AKM_REDIS_ISSUER_PASSWORD: randomBytes(12).toString('hex'),
      AKM_REDIS_VERIFIER_PASSWORD: randomBytes(12).toString('hex'),
    };
    let redis: TestServer | undefined;
    let issuer: RunningIssuer | undefined;
    let verifier: VerifierRuntime | undefined;
    let dataDir: string | undefined;
    const urlOf = (service: string) => interpolate(envOf(service, 'REDIS_URL')!, passwords).replace('@redis:6379', `@127.0.0.1:${redis!.port}`);

    before(async () => {
      const command = /^ {4}command: (\[.*\])$/m.exec(serviceBlock('redis'))![1]!;
      const args = (JSON.parse(interpolate(command, passwords)) as string[]).slice(1);
      const acl = args.slice(args.indexOf('--user'));
      redis = await startRedis({ extraArgs: acl });
      dataDir = mkdtempSync(join(tmpdir(), 'akm-compose-acl-'));
      issuer = await startIssuer({
        dataDir, port: 0, redisUrl: urlOf('issuer'), logger: createLogger({ name: 'issuer', level: 'silent' }), onGeneratedAdminPassword: () => {},
      });
      verifier = await createVerifierRuntime({
        keys: createStaticKeySource({ keys: [] }),
        feed: createMemoryKeyBus().createFeed(),
        redisUrl: urlOf('verifier'),
        logger: createLogger({ name: 'verifier', level: 'silent' }),
      });
    });
    after(async () => {
      await verifier?.stop();
      await issuer?.stop();
      await redis?.destroy();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('the issuer runs its token pool as akm-issuer, and the verifiers count as akm-verifier', async () => {
      const admin = { Authorization: `Bearer ${await issuer!.adminToken()}` };
      const made = await request(issuer!.url).post('/pool/tokens').set(admin).send({ count: 2 });
      expect(made.status, made.text).to.equal(201);
      const assigned = await request(issuer!.url).post('/pool/assign').set(admin);
      expect(assigned.status, assigned.text).to.equal(200);

      await waitFor(() => verifier!.service.verifier.readiness().rateLimits === 'shared', 5000);
      const window = await verifier!.service.verifier.limiter.consume(`k-${randomUUID()}`, [{ name: 'default', limit: 5, windowSeconds: 60 }]);
      expect(window.allowed).to.equal(true);
    });

    it("the verifiers' user cannot touch the pool, nor the issuer's the counters, nor anyone without a user", async () => {
      const attempt = async (url: string, command: (r: Redis) => Promise<unknown>) => {
        const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await command(client);
          return 'allowed';
        } catch (err) {
          return (err as Error).message;
        } finally {
          client.disconnect();
        }
      };

      expect(await attempt(urlOf('verifier'), (r) => r.del('akm:pool:available'))).to.match(/NOPERM/);
      expect(await attempt(urlOf('issuer'), (r) => r.del('akm:rl:some-key'))).to.match(/NOPERM/);
      expect(await attempt(redis!.url, (r) => r.del('akm:rl:some-key'))).to.match(/NOAUTH/);
      expect(await attempt(urlOf('verifier'), (r) => r.set('akm:rl:probe', '1'))).to.equal('allowed');
    });
  });
});
