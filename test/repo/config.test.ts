import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, createLogger } from '@akm/common';
import { issuerOptionsFromEnv, loadIssuerEnv } from '@akm/issuer';
import { loadVerifierEnv } from '@akm/verifier/service';
import { ENTRY_POINTS } from '../support/entry-points.js';

const silentLogger = createLogger({ name: 'config-test', level: 'silent' });

/** What a standalone verifier cannot start without. */
const VERIFIER_REQUIRED = { ISSUER_URL: 'http://127.0.0.1:8080', NATS_URL: 'nats://127.0.0.1:4222' };

function configErrorOf(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, the configuration was accepted');
}

describe('configuration loaders', () => {
  it('with an empty environment, the issuer listens on 127.0.0.1:8080 and keeps its data in ./data', () => {
    const env = loadIssuerEnv({});
    expect(env.ISSUER_PORT).to.equal(8080);
    expect(env.AKM_HOST).to.equal('127.0.0.1');
    expect(env.AKM_DATA_DIR).to.equal('./data');
  });

  it('with only ISSUER_URL and NATS_URL, the verifier listens on 127.0.0.1:8081', () => {
    const env = loadVerifierEnv(VERIFIER_REQUIRED);
    expect(env.VERIFIER_PORT).to.equal(8081);
    expect(env.AKM_HOST).to.equal('127.0.0.1');
  });

  it('with an empty environment, the verifier refuses naming ISSUER_URL or AKM_JWKS_FILE, and NATS_URL', () => {
    const err = configErrorOf(() => loadVerifierEnv({}));
    expect(err.message).to.include('ISSUER_URL or AKM_JWKS_FILE');
    expect(err.message).to.include('NATS_URL: required');
  });

  for (const bad of ['eighty', '70000', '-1', '80.5']) {
    it(`with VERIFIER_PORT=${bad}, the verifier refuses naming VERIFIER_PORT and the value`, () => {
      const err = configErrorOf(() => loadVerifierEnv({ ...VERIFIER_REQUIRED, VERIFIER_PORT: bad }));
      expect(err.message).to.include(`VERIFIER_PORT:`);
      expect(err.message).to.include(`(got "${bad}")`);
    });
  }

  // Connection settings are shared by both services: each mistake stops both, naming the variable.
  const NATS = 'nats://127.0.0.1:4222';
  const A_FILE = fileURLToPath(new URL('../../package.json', import.meta.url));
  const connectionCases: Array<[string, Record<string, string>, string]> = [
    ['NATS_URL of another scheme', { NATS_URL: 'http://127.0.0.1:4222' }, 'NATS_URL: must be a nats:// or tls:// URL'],
    ['credentials inside NATS_URL', { NATS_URL: 'nats://akm:secret@127.0.0.1:4222' }, 'NATS_URL: must not carry credentials'],
    ['NATS_USER without NATS_PASSWORD', { NATS_URL: NATS, NATS_USER: 'akm-verifier' }, 'NATS_PASSWORD: required with NATS_USER'],
    ['NATS_PASSWORD without NATS_USER', { NATS_URL: NATS, NATS_PASSWORD: 'pw' }, 'NATS_USER: required with NATS_PASSWORD'],
    ['a token and a user', { NATS_URL: NATS, NATS_TOKEN: 't', NATS_USER: 'u', NATS_PASSWORD: 'p' }, 'NATS_USER, NATS_TOKEN: set only one kind'],
    ['a NATS_CREDS file that does not exist', { NATS_URL: NATS, NATS_CREDS: '/nonexistent/akm.creds' }, 'NATS_CREDS: must name a readable file'],
    ['a NATS_CA_FILE that does not exist', { NATS_URL: NATS, NATS_CA_FILE: '/nonexistent/ca.pem' }, 'NATS_CA_FILE: must name a readable file'],
    ['REDIS_CA_FILE with a redis:// URL', { NATS_URL: NATS, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CA_FILE: A_FILE }, 'REDIS_CA_FILE: needs a rediss://'],
    ['a REDIS_CA_FILE that does not exist', { NATS_URL: NATS, REDIS_URL: 'rediss://127.0.0.1:6379', REDIS_CA_FILE: '/nonexistent/ca.pem' }, 'REDIS_CA_FILE: must name a readable file'],
  ];
  for (const [what, vars, message] of connectionCases) {
    it(`with ${what}, the issuer and the verifier refuse naming it`, () => {
      for (const load of [() => loadIssuerEnv(vars), () => loadVerifierEnv({ ...VERIFIER_REQUIRED, ...vars })]) {
        expect(configErrorOf(load).message).to.include(message);
      }
    });
  }

  it('with NATS credentials but no NATS_URL, the issuer refuses naming both', () => {
    expect(configErrorOf(() => loadIssuerEnv({ NATS_USER: 'akm-issuer', NATS_PASSWORD: 'pw' })).message).to.include(
      'NATS_USER: set, but NATS_URL is not',
    );
  });

  it('with a user, a tls:// URL, a CA file and rediss:// with a CA, both services accept the settings', () => {
    const vars = {
      NATS_URL: 'tls://nats.internal:4222', NATS_USER: 'akm-verifier', NATS_PASSWORD: 'pw', NATS_CA_FILE: A_FILE,
      REDIS_URL: 'rediss://akm:secret@redis.internal:6380', REDIS_CA_FILE: A_FILE,
    };
    expect(loadIssuerEnv(vars)).to.include(vars);
    expect(loadVerifierEnv({ ...VERIFIER_REQUIRED, ...vars })).to.include(vars);
  });

  // `localhost:6379` parses as a URL of scheme "localhost:", and ioredis reads `http://host:6379`
  // as the host "http": both ran with a Redis the operator did not mean.
  for (const bad of ['not a url', 'http://127.0.0.1:6379', 'localhost:6379']) {
    it(`with REDIS_URL=${bad}, the issuer and the verifier refuse naming REDIS_URL`, () => {
      for (const load of [() => loadIssuerEnv({ REDIS_URL: bad }), () => loadVerifierEnv({ ...VERIFIER_REQUIRED, REDIS_URL: bad })]) {
        const err = configErrorOf(load);
        expect(err.message).to.include('REDIS_URL:');
        expect(err.message).to.include(`(got "${bad}")`);
      }
    });
  }

  for (const bad of ['not a url', 'mysql://127.0.0.1/akm', 'localhost:5432']) {
    it(`with DATABASE_URL=${bad}, the issuer refuses naming DATABASE_URL`, () => {
      const err = configErrorOf(() => loadIssuerEnv({ DATABASE_URL: bad }));
      expect(err.message).to.include('DATABASE_URL:');
      expect(err.message).to.include(`(got "${bad}")`);
    });
  }

  it('refuses DATABASE_URL without AKM_MASTER_KEY, and a master key shorter than 32 characters, naming AKM_MASTER_KEY', () => {
    const DATABASE_URL = 'postgres://db/akm';
    expect(configErrorOf(() => loadIssuerEnv({ DATABASE_URL })).message).to.include('AKM_MASTER_KEY: required with DATABASE_URL');
    expect(configErrorOf(() => loadIssuerEnv({ DATABASE_URL, AKM_MASTER_KEY: 'short' })).message).to.include('AKM_MASTER_KEY: must be at least 32 characters');
  });

  it('takes a postgres:// or postgresql:// DATABASE_URL to the issuer, and none (SQLite) when it is unset or empty', () => {
    const AKM_MASTER_KEY = 'a master key of at least thirty-two characters';
    for (const url of ['postgres://akm:secret@db:5432/akm', 'postgresql://db/akm']) {
      expect(issuerOptionsFromEnv(loadIssuerEnv({ DATABASE_URL: url, AKM_MASTER_KEY }), silentLogger)).to.include({ databaseUrl: url, masterKey: AKM_MASTER_KEY });
    }
    for (const env of [{}, { DATABASE_URL: '' }]) expect(issuerOptionsFromEnv(loadIssuerEnv(env), silentLogger)).to.not.have.property('databaseUrl');
  });

  it('reads AKM_TRUST_PROXY as Express\'s trust proxy: unset or 0 trusts nobody, a number of hops, or addresses, CIDRs and presets', () => {
    expect(loadIssuerEnv({}).AKM_TRUST_PROXY).to.equal(false);
    expect(loadIssuerEnv({ AKM_TRUST_PROXY: '' }).AKM_TRUST_PROXY).to.equal(false);
    expect(loadIssuerEnv({ AKM_TRUST_PROXY: '0' }).AKM_TRUST_PROXY).to.equal(false);
    expect(loadIssuerEnv({ AKM_TRUST_PROXY: '2' }).AKM_TRUST_PROXY).to.equal(2);
    expect(loadIssuerEnv({ AKM_TRUST_PROXY: '10.0.0.0/8, loopback,2001:db8::/32, 192.0.2.7' }).AKM_TRUST_PROXY).to.deep.equal([
      '10.0.0.0/8', 'loopback', '2001:db8::/32', '192.0.2.7',
    ]);
  });

  for (const bad of ['true', 'yes', '10.0.0.0/33', '10.0.0.0/8/1', 'proxy.example']) {
    it(`with AKM_TRUST_PROXY=${bad}, the issuer refuses naming AKM_TRUST_PROXY and the value`, () => {
      const err = configErrorOf(() => loadIssuerEnv({ AKM_TRUST_PROXY: bad }));
      expect(err.message).to.include('AKM_TRUST_PROXY:');
      expect(err.message).to.include(`(got "${bad}")`);
      if (bad === 'true') expect(err.message).to.include('any client');
    });
  }

  it('METRICS_TOKEN and AKM_TRUST_PROXY are read by both services; a METRICS_TOKEN under 16 characters is refused', () => {
    const both = { METRICS_TOKEN: 'a-token-long-enough', AKM_TRUST_PROXY: '1' };
    expect(loadIssuerEnv(both)).to.include({ METRICS_TOKEN: 'a-token-long-enough', AKM_TRUST_PROXY: 1 });
    expect(loadVerifierEnv({ ...VERIFIER_REQUIRED, ...both })).to.include({ METRICS_TOKEN: 'a-token-long-enough', AKM_TRUST_PROXY: 1 });
    for (const load of [() => loadIssuerEnv({ METRICS_TOKEN: 'short' }), () => loadVerifierEnv({ ...VERIFIER_REQUIRED, METRICS_TOKEN: 'short' })]) {
      expect(configErrorOf(load).message).to.include('METRICS_TOKEN: must be at least 16 characters');
    }
  });

  it('accepts redis:// and rediss:// URLs for REDIS_URL', () => {
    for (const good of ['redis://127.0.0.1:6379', 'rediss://user:pw@cache.example:6380/2']) {
      expect(loadIssuerEnv({ REDIS_URL: good }).REDIS_URL).to.equal(good);
      expect(loadVerifierEnv({ ...VERIFIER_REQUIRED, REDIS_URL: good }).REDIS_URL).to.equal(good);
    }
  });

  for (const [name, value] of [
    ['VERIFIER_PORT', 'eighty'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
  ] as const) {
    it(`the verifier process with a bad ${name} exits 78 (EX_CONFIG) before listening, with one message naming it`, () => {
      const run = spawnSync(process.execPath, [ENTRY_POINTS.verifier], {
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...VERIFIER_REQUIRED, [name]: value },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status, run.stderr).to.equal(78);
      expect(run.stderr).to.match(new RegExp(`^akm-verifier: invalid configuration:\\n  ${name}: .*\\(got "${value}"\\)\\n$`));
    });
  }
});
