/**
 * The OpenAPI documents of both services: valid OpenAPI 3.1, the same as the committed files
 * (and the generated client types), and true to the running services: every documented answer
 * of every operation — its success and each problem code it lists — is produced by a real
 * issuer and verifier over NATS and Redis, and each real answer matches the documented schema.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import request from 'supertest';
import { API_KEY_TYP, createLogger, SESSION_AUDIENCE, SESSION_TYP } from '@akm/common';
import { startIssuer, type RunningIssuer } from '@akm/issuer';
import { createVerifierRuntime, type VerifierRuntime } from '@akm/verifier/service';
import { openApiArtifacts } from '../../scripts/openapi-artifacts.js';
import { neverReplayedFeed } from '../../verifier/test/support/never-replayed-feed.js';
import { waitFor } from '../support/processes.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

type Json = Record<string, any>;
type Service = 'issuer' | 'verifier';
const ROOT = resolve(import.meta.dirname, '../..');
const silent = (name: string) => createLogger({ name, level: 'silent' });

/** One request of the tour: the operation it calls and how. */
interface Probe {
  path?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** Sent as it is, with Content-Type application/json (for malformed JSON). */
  rawBody?: string;
  authorization?: string;
  /** Use the verifier that never finishes its replay. */
  unready?: boolean;
  /** Runs the request with the issuer's clock moved forward by this many ms. */
  clockAheadMs?: number;
  /** Another server of the same service to ask. */
  baseUrl?: string;
}

/** Tokens one holder may lease at once in this test's issuer (the admin holds a few across probes). */
const PER_HOLDER = 4;

describe('e2e: OpenAPI documents of the issuer and the verifier', () => {
  let unready: VerifierRuntime;
  let skewMs = 0;
  const cleanups: (() => Promise<void>)[] = [];
  const docs: Record<Service, Json> = { issuer: {}, verifier: {} };

  // Registered before the suite's own after-hook: what the tests started stops first.
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await unready?.stop();
  });
  const e2e = useWiredVerifiers({
    name: 'openapi-verifier',
    redis: true,
    issuer: {
      adminPassword: 'the first admin password', now: () => Date.now() + skewMs,
      pool: { maxTokens: 1000, maxPerHolder: PER_HOLDER }, loginGuard: { perUser: 2 },
    },
  });
  let issuer: RunningIssuer;
  let verifier: VerifierRuntime;
  before(async () => {
    ({ issuer, verifier } = e2e);
    unready = await createVerifierRuntime({ issuerUrl: issuer.url, feed: neverReplayedFeed(), logger: silent('unready'), name: 'unready' });
    docs.issuer = (await request(issuer.url).get('/openapi.json')).body;
    docs.verifier = (await request(verifier.service.url).get('/openapi.json')).body;
  });

  it('both documents are valid OpenAPI 3.1', async () => {
    for (const service of ['issuer', 'verifier'] as const) {
      const result = await new Validator().validate(docs[service]);
      expect(result.valid, `${service}: ${JSON.stringify(result.errors, null, 2)}`).to.equal(true);
      expect(docs[service].openapi).to.equal('3.1.0');
    }
  });

  it('docs/openapi/*.json and the client types are what the code generates now (npm run openapi)', async function () {
    this.timeout(30_000);
    const artifacts = await openApiArtifacts();
    for (const [path, content] of Object.entries(artifacts)) {
      expect(readFileSync(resolve(ROOT, path), 'utf8') === content, `${path} is out of date: run npm run openapi`).to.equal(true);
    }
    for (const service of ['issuer', 'verifier'] as const) {
      expect(docs[service], `${service} serves the committed document`).to.deep.equal(JSON.parse(artifacts[`docs/openapi/${service}.json`]!));
    }
  });

  it('every documented answer of every operation is produced by the running services, and every answer matches its schema', async function () {
    this.timeout(120_000);
    const tour = await createTour();
    const missing: string[] = [];
    const wrong: string[] = [];
    // The verifier first: the tour rotates the issuer's signing key, which a verifier learns
    // of only after its JWKS cool-down.
    for (const service of ['verifier', 'issuer'] as const) {
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats.default(ajv);
      const doc = docs[service];
      for (const [path, methods] of Object.entries(doc.paths as Json)) {
        for (const [method, op] of Object.entries(methods as Json)) {
          for (const [status, response] of Object.entries(op.responses as Json)) {
            if (status === 'default') continue;
            const problem = response.content?.['application/problem+json'];
            const codes: (string | undefined)[] = problem ? problem.schema.allOf[1].properties.code.enum : [undefined];
            for (const code of codes) {
              const name = `${service} ${method.toUpperCase()} ${path} → ${status}${code ? ` ${code}` : ''}`;
              const probe = await tour.probe(service, op.operationId, Number(status), code);
              if (!probe) {
                missing.push(name);
                continue;
              }
              const res = await tour.send(service, method, path, probe);
              const why = checkAnswer(ajv, doc, response, Number(status), code, res);
              if (why) wrong.push(`${name}: ${why}\n    ${res.status} ${res.text.slice(0, 300)}`);
            }
          }
        }
      }
    }
    expect(wrong, `answers that do not match the document:\n${wrong.join('\n')}`).to.deep.equal([]);
    expect(missing, `answers documented but not produced by the tour:\n${missing.join('\n')}`).to.deep.equal([]);
  });

  function checkAnswer(ajv: Ajv2020, doc: Json, response: Json, status: number, code: string | undefined, res: request.Response): string | undefined {
    if (res.status !== status) return `expected status ${status}`;
    if (code && res.body.code !== code) return `expected code ${code}`;
    const [type, media] = Object.entries((response.content ?? {}) as Json)[0] ?? [];
    if (!type) return res.text === '' ? undefined : 'documented without a body but has one';
    if (!String(res.headers['content-type']).startsWith(type)) return `content-type ${res.headers['content-type']}, documented ${type}`;
    const validate: ValidateFunction = ajv.compile({ ...media.schema, components: doc.components });
    const body = type.startsWith('text/') ? res.text : res.body;
    if (!validate(body)) return JSON.stringify(validate.errors);
    for (const header of Object.keys(response.headers ?? {})) {
      if (header === 'WWW-Authenticate' && status !== 401) continue;
      // Documented as sent with credits_exhausted only when a refill is due (the tour's key has none).
      if (header === 'Retry-After' && code === 'credits_exhausted') continue;
      if (res.headers[header.toLowerCase()] === undefined) return `documented header ${header} missing`;
    }
    return undefined;
  }

  /** How to produce each documented answer. */
  async function createTour() {
    const adminSession = `Bearer ${await issuer.adminToken()}`;
    const issuerUrl = issuer.url;
    const signIn = async (username: string, password: string) => {
      const res = await request(issuerUrl).post('/auth/login').send({ username, password });
      expect(res.status, res.text).to.equal(200);
      return `Bearer ${res.body.token}`;
    };
    const createUser = async (role: 'user' | 'admin' = 'user') => {
      const username = `u${randomUUID().slice(0, 8)}`;
      const res = await request(issuerUrl).post('/admin/users').set('Authorization', adminSession).send({ username, password: 'a long enough password', role });
      expect(res.status, res.text).to.equal(201);
      return { username, session: () => signIn(username, 'a long enough password') };
    };
    const mint = async (body: Json = {}) => {
      // An admin key needs an owner who is an active admin user: the first admin.
      const res = await request(issuerUrl).post('/admin/keys').set('Authorization', adminSession).send({ sub: body.role === 'admin' ? 'admin' : 'tour', ...body });
      expect(res.status, res.text).to.equal(201);
      await issuer.relay.flush(5000);
      return { id: res.body.id as string, key: res.body.key as string, bearer: `Bearer ${res.body.key}` };
    };
    const patchKey = async (id: string, body: Json) => {
      const res = await request(issuerUrl).patch(`/admin/keys/${id}`).set('Authorization', adminSession).send(body);
      expect(res.status, res.text).to.be.oneOf([200, 204]);
      await issuer.relay.flush(5000);
    };
    /** Waits until the verifier has heard of the change that makes `key` answer `code`. */
    const heard = (key: string, code: string) =>
      waitFor(async () => (await request(verifier.service.url).post('/v1/verify').send({ key, consume: false })).body.code === code, 5000);
    const revoked = async (body: Json = {}) => {
      const k = await mint(body);
      await request(issuerUrl).delete(`/admin/keys/${k.id}`).set('Authorization', adminSession);
      await issuer.relay.flush(5000);
      await heard(k.key, 'key_revoked');
      return k;
    };
    const nowS = () => Math.floor((Date.now() + skewMs) / 1000);
    const signed = (claims: Json, typ: string) => issuer.signing.sign({ iss: 'akm', jti: randomUUID(), iat: nowS(), ...claims } as unknown as Json & { exp: number }, typ);
    const apiKeyClaims = (over: Json) => ({ aud: 'akm-api', sub: 'tour', nbf: nowS(), exp: nowS() + 600, role: 'user', rate_limit: 10, ...over });
    const user = await createUser();
    const userSession = await user.session();
    const poolToken = async () => {
      const res = await request(issuerUrl).post('/pool/tokens').set('Authorization', adminSession).send({ count: 1 });
      expect(res.status, res.text).to.equal(201);
      return res.body.tokens[0] as string;
    };

    /** Credentials that make a guard answer `code`. */
    async function credential(code: string, guard: 'session' | 'apiKey' | 'caller' | 'verifier'): Promise<Probe | undefined> {
      switch (code) {
        case 'missing_credentials': return {};
        case 'malformed_credentials': return { authorization: 'Basic dG91cjp0b3Vy' };
        case 'invalid_token': return { authorization: 'Bearer not.a.token' };
        case 'token_expired':
          return { authorization: `Bearer ${await signed({ aud: SESSION_AUDIENCE, sub: 'admin', role: 'admin', iat: nowS() - 7200, exp: nowS() - 3600 }, SESSION_TYP)}` };
        case 'credits_exhausted': return { authorization: (await mint({ credits: { remaining: 0 } })).bearer };
        case 'insufficient_scope': return { authorization: (await mint({ scopes: ['orders:write'] })).bearer };
        case 'forbidden': return guard === 'verifier' ? { authorization: (await mint({ role: 'user' })).bearer } : { authorization: userSession };
        case 'invalid_key':
          return { authorization: `Bearer ${await signed(apiKeyClaims({ aud: 'another-api' }), API_KEY_TYP)}` };
        case 'key_not_yet_valid':
          return { authorization: `Bearer ${await signed(apiKeyClaims({ nbf: nowS() + 3600 }), API_KEY_TYP)}` };
        case 'key_revoked': return { authorization: (await revoked()).bearer };
        case 'key_disabled': {
          const k = await mint();
          await patchKey(k.id, { status: 'disabled' });
          await heard(k.key, 'key_disabled');
          return { authorization: k.bearer };
        }
        case 'key_expired': {
          if (guard === 'verifier') return { authorization: `Bearer ${await signed(apiKeyClaims({ iat: nowS() - 7200, nbf: nowS() - 7200, exp: nowS() - 3600 }), API_KEY_TYP)}` };
          const k = await mint({ ttl: 1 });
          return { authorization: k.bearer, clockAheadMs: 2000 };
        }
        case 'rate_limited': {
          const k = await mint({ rateLimit: 1 });
          await request(verifier.service.url).get('/auth').set('Authorization', k.bearer);
          return { authorization: k.bearer };
        }
        case 'unavailable': return { authorization: (await mint()).bearer, unready: true };
        default: return undefined;
      }
    }

    const admin = (p: Probe = {}): Probe => ({ authorization: adminSession, ...p });
    const GUARDS: Record<string, 'session' | 'apiKey' | 'caller' | 'verifier'> = {};
    for (const [service, doc] of Object.entries(docs)) {
      for (const methods of Object.values(doc.paths as Json)) {
        for (const op of Object.values(methods as Json)) {
          const schemes = (op.security as Json[]).flatMap((s) => Object.keys(s));
          GUARDS[op.operationId] = service === 'verifier' ? 'verifier' : schemes.length === 2 ? 'caller' : schemes[0] === 'apiKey' ? 'apiKey' : 'session';
        }
      }
    }

    /** A new user whom an admin gave a key policy: they may create and roll keys of their own. */
    const userWithPolicy = async () => {
      const self = await createUser();
      const policy = { maxKeys: 100, maxRateLimit: 100, maxTtlSeconds: 86_400, scopes: ['prices:read'] };
      const set = await request(issuerUrl).patch(`/admin/users/${self.username}`).set('Authorization', adminSession).send({ keyPolicy: policy });
      expect(set.status, set.text).to.equal(200);
      return self;
    };

    /** Answers of one operation that the generic rules do not cover, by `operationId status code`. */
    const specific: Record<string, () => Promise<Probe>> = {
      // issuer: keys
      'createKey 201': async () => admin({ body: { sub: 'alice', rateLimit: 10, name: 'ci', meta: { team: 'payments' } } }),
      'createKey 409 conflict': async () => {
        const gone = await createUser();
        const off = await request(issuerUrl).patch(`/admin/users/${gone.username}`).set('Authorization', adminSession).send({ status: 'disabled' });
        expect(off.status, off.text).to.equal(200);
        return admin({ body: { sub: gone.username } });
      },
      'listKeys 200': async () => admin({ query: 'limit=2' }),
      'getKey 200': async () => admin({ path: { id: (await mint()).id } }),
      'updateKey 200': async () => admin({ path: { id: (await mint()).id }, body: { rateLimit: 5 } }),
      'updateKey 409 conflict': async () => admin({ path: { id: (await revoked()).id }, body: { rateLimit: 5 } }),
      'revokeKey 204': async () => admin({ path: { id: (await mint()).id } }),
      'rollKey 201': async () => admin({ path: { id: (await mint()).id }, body: { graceSeconds: 60 } }),
      'rollKey 409 conflict': async () => admin({ path: { id: (await revoked()).id }, body: { graceSeconds: 60 } }),
      'createMyKey 201': async () => {
        const self = await userWithPolicy();
        return { authorization: await self.session(), body: { name: 'own' } };
      },
      'createMyKey 403 policy_exceeded': async () => ({ authorization: userSession, body: {} }),
      'revokeMyKey 204': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id } }),
      'rollMyKey 201': async () => {
        const self = await userWithPolicy();
        return { authorization: await self.session(), path: { id: (await mint({ sub: self.username })).id }, body: { graceSeconds: 60 } };
      },
      'rollMyKey 409 conflict': async () => {
        const self = await userWithPolicy();
        return { authorization: await self.session(), path: { id: (await revoked({ sub: self.username })).id }, body: { graceSeconds: 60 } };
      },
      'rollMyKey 403 policy_exceeded': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id }, body: { graceSeconds: 60 } }),
      'disableOwnKey 200': async () => ({ authorization: (await mint()).bearer }),
      // issuer: users
      'signIn 200': async () => ({ body: { username: 'admin', password: 'the first admin password' } }),
      'signIn 401 invalid_credentials': async () => ({ body: { username: 'admin', password: 'wrong password' } }),
      'signIn 429 too_many_attempts': async () => {
        const victim = await createUser();
        for (let i = 0; i < 2; i++) await request(issuerUrl).post('/auth/login').send({ username: victim.username, password: 'nope' });
        return { body: { username: victim.username, password: 'nope' } };
      },
      'createUser 201': async () => admin({ body: { username: `n${randomUUID().slice(0, 8)}`, password: 'a long enough password' } }),
      'createUser 409 conflict': async () => admin({ body: { username: user.username, password: 'a long enough password' } }),
      'listUsers 200': async () => admin({ query: 'limit=1' }),
      'getUser 200': async () => admin({ path: { username: user.username } }),
      'updateUser 200': async () => admin({ path: { username: (await createUser()).username }, body: { role: 'user' } }),
      'updateUser 409 conflict': async () => admin({ path: { username: 'admin' }, body: { role: 'user' } }),
      'deleteUser 204': async () => admin({ path: { username: (await createUser()).username } }),
      'unlockUser 204': async () => admin({ path: { username: user.username } }),
      'deleteUser 409 conflict': async () => admin({ path: { username: 'admin' } }),
      'getMe 200': async () => ({ authorization: userSession }),
      'getMe 404 not_found': async () => ({ authorization: adminSession }),
      'listMyKeys 200': async () => ({ authorization: userSession }),
      'disableMyKey 200': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id } }),
      // Keys belong to a user id: anyone else's key is 404, like an unknown id.
      'disableMyKey 404 not_found': async () => ({ authorization: userSession, path: { id: (await mint({ sub: 'someone-else' })).id } }),
      'signOut 204': async () => ({ authorization: await (await createUser()).session(), body: { everywhere: false } }),
      'signOut 409 conflict': async () => admin({ body: { everywhere: true } }),
      'changeMyPassword 200': async () => ({
        authorization: await (await createUser()).session(),
        body: { currentPassword: 'a long enough password', newPassword: 'another long enough password' },
      }),
      'changeMyPassword 404 not_found': async () => admin({ body: { currentPassword: 'a long enough password', newPassword: 'another long enough password' } }),
      'changeMyPassword 429 too_many_attempts': async () => {
        const victim = await createUser();
        const session = await victim.session();
        const wrong = { currentPassword: 'not the password', newPassword: 'another long enough password' };
        // From an address it signed in from, a user has the per-address allowance: use it up.
        for (let i = 0; i < 20; i++) {
          if ((await request(issuerUrl).post('/me/password').set('Authorization', session).send(wrong)).status === 429) break;
        }
        return { authorization: session, body: wrong };
      },
      'disableMyKey 409 conflict': async () => ({ authorization: userSession, path: { id: (await revoked({ sub: user.username })).id } }),
      // issuer: usage, events, the busiest keys
      'getKeyUsage 200': async () => admin({ path: { id: (await mint()).id } }),
      'listKeyEvents 200': async () => admin({ path: { id: (await mint()).id } }),
      'listTopKeys 200': async () => admin({ query: 'window=1h' }),
      'getMyKey 200': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id } }),
      'getMyKey 404 not_found': async () => ({ authorization: userSession, path: { id: (await mint({ sub: 'someone-else' })).id } }),
      'getMyKeyUsage 200': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id } }),
      'getMyKeyUsage 404 not_found': async () => ({ authorization: userSession, path: { id: (await mint({ sub: 'someone-else' })).id } }),
      'listMyKeyEvents 200': async () => ({ authorization: userSession, path: { id: (await mint({ sub: user.username })).id } }),
      'listMyKeyEvents 404 not_found': async () => ({ authorization: userSession, path: { id: (await mint({ sub: 'someone-else' })).id } }),
      'listMyTopKeys 200': async () => ({ authorization: userSession, query: 'by=rate_limited' }),
      // issuer: pool
      'generatePoolTokens 201': async () => admin({ body: { count: 1 } }),
      'generatePoolTokens 409 pool_full': async () => admin({ body: { count: 1001 } }),
      'assignPoolToken 200': async () => {
        await poolToken();
        return { authorization: userSession };
      },
      'assignPoolToken 409 holder_limit': async () => {
        const holder = await (await createUser()).session();
        for (let i = 0; i < PER_HOLDER; i++) {
          await poolToken();
          expect((await request(issuerUrl).post('/pool/assign').set('Authorization', holder)).status).to.equal(200);
        }
        return { authorization: holder };
      },
      'assignPoolToken 404 pool_empty': async () => {
        // Each holder may hold PER_HOLDER tokens: take them all with as many holders as it needs.
        for (let status = 200; status !== 404; ) {
          const holder = await (await createUser()).session();
          do status = (await request(issuerUrl).post('/pool/assign').set('Authorization', holder)).status;
          while (status === 200);
        }
        return { authorization: userSession };
      },
      'unblockPoolToken 200': async () => admin({ path: { token: await assigned() } }),
      'unblockPoolToken 409 not_assigned': async () => admin({ path: { token: await poolToken() } }),
      'unblockPoolToken 403 forbidden': async () => ({ authorization: userSession, path: { token: await assigned() } }),
      'keepPoolTokenAlive 200': async () => admin({ path: { token: await poolToken() } }),
      'keepPoolTokenAlive 403 forbidden': async () => ({ authorization: userSession, path: { token: await assigned() } }),
      'getPoolToken 200': async () => admin({ path: { token: await poolToken() } }),
      'getPoolToken 403 forbidden': async () => ({ authorization: userSession, path: { token: await assigned() } }),
      'deletePoolToken 204': async () => admin({ path: { token: await poolToken() } }),
      'getPoolStats 200': async () => ({ authorization: userSession }),
      // issuer: system
      'getHealth 200': async () => ({}),
      'getReadiness 200': async () => ({}),
      'getReadiness 503': async () => {
        const dir = mkdtempSync(join(tmpdir(), 'akm-openapi-broken-'));
        const broken = await startIssuer({ dataDir: dir, port: 0, logger: silent('broken'), onGeneratedAdminPassword: () => {} });
        cleanups.push(async () => {
          await broken.stop().catch(() => undefined);
          rmSync(dir, { recursive: true, force: true });
        });
        await broken.db.close();
        return { baseUrl: broken.url };
      },
      'getMetrics 200': async () => ({}),
      'getJwks 200': async () => ({}),
      'rotateSigningKey 201': async () => admin(),
      'getOpenApi 200': async () => ({}),
      // verifier
      'forwardAuth 200': async () => ({ authorization: (await mint()).bearer, query: 'roles=user,admin' }),
      'forwardAuth 403 forbidden': async () => ({ authorization: (await mint({ role: 'user' })).bearer, query: 'roles=admin' }),
      'forwardAuth 403 insufficient_scope': async () => ({ authorization: (await mint()).bearer, query: 'scopes=orders:write' }),
      'verifyKey 200': async () => ({ body: { key: (await mint()).key } }),
      'getPrice 200': async () => ({ authorization: (await mint()).bearer, query: 'symbol=eth' }),
      'getPrice 400 validation_failed': async () => ({ authorization: (await mint()).bearer, query: 'symbol=B%24C' }),
      'getPrice 404 not_found': async () => ({ authorization: (await mint()).bearer, query: 'symbol=NOPE' }),
      'getKeyInfo 200': async () => ({ authorization: (await mint()).bearer }),
      'getVerifierReport 200': async () => ({ authorization: (await mint({ role: 'admin' })).bearer }),
      'getVerifierReport 403 forbidden': async () => ({ authorization: (await mint({ role: 'user' })).bearer }),
    };

    /** A token leased by a holder of its own (one holder may lease only PER_HOLDER at once). */
    async function assigned(): Promise<string> {
      await poolToken();
      const res = await request(issuerUrl).post('/pool/assign').set('Authorization', await (await createUser()).session());
      expect(res.status, res.text).to.equal(200);
      return res.body.token as string;
    }

    /** A valid request of an operation, to vary for validation and not-found answers. */
    async function valid(operationId: string): Promise<Probe | undefined> {
      const success = Object.entries(specific).find(([k]) => k.startsWith(`${operationId} 2`));
      return success?.[1]();
    }

    return {
      async probe(service: Service, operationId: string, status: number, code: string | undefined): Promise<Probe | undefined> {
        const key = `${operationId} ${status}${code ? ` ${code}` : ''}`;
        if (specific[key]) return specific[key]();
        if (!code) return undefined;
        const guard = GUARDS[operationId]!;
        const base = await valid(operationId);
        if (!base) return undefined;
        switch (code) {
          case 'validation_failed': {
            if (base.body !== undefined) return { ...base, body: { ...(base.body as Json), unknownField: 1 } };
            if (base.path?.token) return { ...base, path: { token: 'bad token!' } };
            if (base.path?.username) return { ...base, path: { username: 'Not A Name' } };
            return { ...base, query: `${base.query ? `${base.query}&` : ''}unknownParameter=1` };
          }
          case 'malformed_json': return { ...base, rawBody: '{"oops":' };
          case 'not_found': {
            if (base.path?.id) return { ...base, path: { id: 'no-such-key' } };
            if (base.path?.username) return { ...base, path: { username: 'nobody' } };
            if (base.path?.token) return { ...base, path: { token: 'pt_nosuchtoken' } };
            return undefined;
          }
          default: {
            const cred = await credential(code, guard);
            return cred && { ...base, authorization: undefined, ...cred };
          }
        }
        void service;
      },
      async send(service: Service, method: string, path: string, probe: Probe): Promise<request.Response> {
        const base = probe.baseUrl ?? (service === 'issuer' ? issuer.url : (probe.unready ? unready : verifier).service.url);
        const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(probe.path?.[name] ?? '')) + (probe.query ? `?${probe.query}` : '');
        let req = (request(base) as any)[method](url) as request.Test;
        if (probe.authorization) req = req.set('Authorization', probe.authorization);
        if (probe.rawBody !== undefined) req = req.set('Content-Type', 'application/json').send(probe.rawBody);
        else if (probe.body !== undefined) req = req.send(probe.body as object);
        const before = skewMs;
        skewMs += probe.clockAheadMs ?? 0;
        try {
          return await req;
        } finally {
          skewMs = before;
        }
      },
    };
  }
});
