import { expect } from 'chai';
import express, { type Express, type RequestHandler } from 'express';
import { Registry } from 'prom-client';
import request, { type Response } from 'supertest';
import { AppError, createLogger, errorHandler, jsonBody, notFoundHandler } from '@akm/common';
import { startRedis, waitFor, type TestServer } from '../../../test/support/processes.js';
import {
  createPoolMetrics,
  createPoolRouter,
  createPoolService,
  DEFAULT_POOL_OPTIONS,
  MAX_TOKENS_PER_REQUEST,
  type TokenPoolStore,
} from '../../src/pool/index.js';
import { createTestClock, redisStores, sqliteStores, type TestClock } from './pool-test-support.js';

/** Test auth: `x-test-user: name` and `x-test-role: admin|user`; a real issuer wires real auth. */
const principal: RequestHandler = (req, res, next) => {
  const sub = req.get('x-test-user');
  if (!sub) throw new AppError('missing_credentials', 'x-test-user required');
  res.locals.principal = { sub, role: req.get('x-test-role') === 'admin' ? 'admin' : 'user', kind: 'session' };
  next();
};
const requireAdmin: RequestHandler = (req, res, next) =>
  principal(req, res, () => (res.locals.principal.role === 'admin' ? next() : next(new AppError('forbidden', 'admin role required'))));

function testApp(store: TokenPoolStore, maxTokens = 30): Express {
  const logger = createLogger({ name: 'pool-routes-test', level: 'silent' });
  const options = { ...DEFAULT_POOL_OPTIONS, maxTokens };
  const service = createPoolService({ store, options, logger, metrics: createPoolMetrics(new Registry()) });
  const app = express();
  app.use(jsonBody());
  app.use('/pool', createPoolRouter({ service, requireAdmin, requireCaller: principal }));
  app.use(notFoundHandler, errorHandler(logger));
  return app;
}

const body = (res: Response) => JSON.stringify(res.body);
function expectProblem(res: Response, status: number, code: string, field?: string): void {
  expect(res.status, body(res)).to.equal(status);
  expect(res.body.code, body(res)).to.equal(code);
  expect(res.type, body(res)).to.equal('application/problem+json');
  if (field) expect(res.body.errors.map((e: { field: string }) => e.field), body(res)).to.include(field);
}

describe('pool routes', () => {
  const stores = sqliteStores();
  let clock: TestClock;
  let app: Express;
  const asAdmin = (req: request.Test) => req.set('x-test-user', 'root').set('x-test-role', 'admin');
  const as = (sub: string) => (req: request.Test) => req.set('x-test-user', sub);
  async function generate(count: number): Promise<string[]> {
    const res = await asAdmin(request(app).post('/pool/tokens')).send({ count });
    expect(res.status, body(res)).to.equal(201);
    return res.body.tokens as string[];
  }
  async function assign(sub: string): Promise<string> {
    const res = await as(sub)(request(app).post('/pool/assign'));
    expect(res.status, body(res)).to.equal(200);
    return res.body.token as string;
  }

  beforeEach(() => {
    clock = createTestClock();
    app = testApp(stores.make(clock.now));
  });
  after(() => stores.cleanup());

  describe('POST /pool/tokens', () => {
    it('when an admin asks for 3 tokens, answers 201 with 3 distinct tokens', async () => {
      const tokens = await generate(3);
      expect(new Set(tokens).size).to.equal(3);
    });

    for (const [what, sent, field] of [
      ['a zero count', { count: 0 }, 'count'],
      ['a negative count', { count: -2 }, 'count'],
      ['a fractional count', { count: 1.5 }, 'count'],
      ['a count given as a string', { count: '3' }, 'count'],
      ['a count above the per-request bound', { count: MAX_TOKENS_PER_REQUEST + 1 }, 'count'],
      ['no count', {}, 'count'],
      ['an unknown field', { count: 1, extra: true }, 'extra'],
    ] as const) {
      it(`when given ${what}, answers 400 validation_failed naming ${field}`, async () => {
        const res = await asAdmin(request(app).post('/pool/tokens')).send(sent);
        expectProblem(res, 400, 'validation_failed', field);
      });
    }

    it('when the pool would exceed POOL_MAX_TOKENS, answers 409 pool_full and adds nothing', async () => {
      await generate(25);
      expectProblem(await asAdmin(request(app).post('/pool/tokens')).send({ count: 6 }), 409, 'pool_full');
      const stats = await as('alice')(request(app).get('/pool/stats'));
      expect(stats.body, body(stats)).to.deep.equal({ available: 25, assigned: 0, total: 25 });
    });

    it('when the caller is not an admin, answers 403 forbidden; without credentials 401', async () => {
      expectProblem(await as('alice')(request(app).post('/pool/tokens')).send({ count: 1 }), 403, 'forbidden');
      expectProblem(await request(app).post('/pool/tokens').send({ count: 1 }), 401, 'missing_credentials');
    });
  });

  describe('POST /pool/assign', () => {
    it('leases a token to the caller with its assignment deadline', async () => {
      await generate(1);
      const res = await as('alice')(request(app).post('/pool/assign'));
      expect(res.status, body(res)).to.equal(200);
      expect(res.body, body(res)).to.deep.include({
        state: 'assigned',
        assignedTo: 'alice',
        expiresAt: new Date(clock.now() + 60_000).toISOString(),
        aliveUntil: new Date(clock.now() + 300_000).toISOString(),
      });
    });

    it('when no token is available, answers 404 pool_empty; without credentials 401', async () => {
      expectProblem(await as('alice')(request(app).post('/pool/assign')), 404, 'pool_empty');
      expectProblem(await request(app).post('/pool/assign'), 401, 'missing_credentials');
    });
  });

  describe('POST /pool/tokens/:token/unblock', () => {
    it('lets the holder return the token, which becomes assignable again', async () => {
      await generate(1);
      const token = await assign('alice');
      const res = await as('alice')(request(app).post(`/pool/tokens/${token}/unblock`));
      expect(res.status, body(res)).to.equal(200);
      expect(res.body, body(res)).to.deep.include({ token, state: 'available', assignedTo: null, expiresAt: null });
      expect(await assign('bob')).to.equal(token);
    });

    it('answers 403 forbidden to another user, and lets an admin unblock it', async () => {
      await generate(1);
      const token = await assign('alice');
      expectProblem(await as('bob')(request(app).post(`/pool/tokens/${token}/unblock`)), 403, 'forbidden');
      const res = await asAdmin(request(app).post(`/pool/tokens/${token}/unblock`));
      expect(res.status, body(res)).to.equal(200);
    });

    it('answers 409 not_assigned for an available token, 404 not_found for an unknown one, 400 for a malformed one', async () => {
      const [token] = await generate(1);
      expectProblem(await as('alice')(request(app).post(`/pool/tokens/${token}/unblock`)), 409, 'not_assigned');
      expectProblem(await as('alice')(request(app).post('/pool/tokens/pt_unknown/unblock')), 404, 'not_found');
      const long = 'x'.repeat(129);
      expectProblem(await as('alice')(request(app).post(`/pool/tokens/${long}/unblock`)), 400, 'validation_failed', 'token');
    });

    it('when the assignment TTL passed without a keep-alive, answers 409 not_assigned', async () => {
      await generate(1);
      const token = await assign('alice');
      clock.advance(60_000);
      expectProblem(await as('alice')(request(app).post(`/pool/tokens/${token}/unblock`)), 409, 'not_assigned');
    });
  });

  describe('POST /pool/tokens/:token/keep-alive', () => {
    it('postpones the purge and, for the holder, extends the assignment', async () => {
      await generate(1);
      const token = await assign('alice');
      clock.advance(30_000);
      const res = await as('alice')(request(app).post(`/pool/tokens/${token}/keep-alive`));
      expect(res.status, body(res)).to.equal(200);
      expect(res.body, body(res)).to.deep.include({
        assignedTo: 'alice',
        expiresAt: new Date(clock.now() + 60_000).toISOString(),
        aliveUntil: new Date(clock.now() + 300_000).toISOString(),
      });
    });

    it('answers 403 forbidden to another user on an assigned token and 404 not_found once purged', async () => {
      const [token] = await generate(1);
      await assign('alice');
      expectProblem(await as('bob')(request(app).post(`/pool/tokens/${token}/keep-alive`)), 403, 'forbidden');
      clock.advance(300_000);
      expectProblem(await as('alice')(request(app).post(`/pool/tokens/${token}/keep-alive`)), 404, 'not_found');
    });
  });

  describe('DELETE /pool/tokens/:token', () => {
    it('purges the token for an admin (204) and answers 404 not_found afterwards', async () => {
      const [token] = await generate(1);
      const res = await asAdmin(request(app).delete(`/pool/tokens/${token}`));
      expect(res.status, body(res)).to.equal(204);
      expectProblem(await asAdmin(request(app).delete(`/pool/tokens/${token}`)), 404, 'not_found');
    });

    it('answers 403 forbidden to a user, leaving the token in place', async () => {
      const [token] = await generate(1);
      expectProblem(await as('alice')(request(app).delete(`/pool/tokens/${token}`)), 403, 'forbidden');
      expect((await as('alice')(request(app).get('/pool/stats'))).body).to.deep.include({ total: 1 });
    });
  });

  describe('GET /pool/stats', () => {
    it('counts available and assigned tokens', async () => {
      await generate(5);
      await assign('alice');
      await assign('bob');
      const res = await as('alice')(request(app).get('/pool/stats'));
      expect(res.status, body(res)).to.equal(200);
      expect(res.body, body(res)).to.deep.equal({ available: 3, assigned: 2, total: 5 });
    });
  });
});

describe('pool routes under 50 concurrent assigners', () => {
  const sqlite = sqliteStores();
  let redis: TestServer;
  const redisPool = redisStores(() => redis.url);
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    sqlite.cleanup();
    redisPool.cleanup();
    await redis?.destroy();
  });

  for (const [name, make] of [
    ['SQLite', (now: () => number) => sqlite.make(now)],
    ['Redis', (now: () => number) => redisPool.make(now)],
  ] as const) {
    it(`on ${name}, a pool of 20 gives 20 distinct tokens and 30 answers of 404 pool_empty`, async () => {
      const app = testApp(make(Date.now));
      const server = app.listen(0);
      try {
        const created = await request(server).post('/pool/tokens').set('x-test-user', 'root').set('x-test-role', 'admin').send({ count: 20 });
        expect(created.status, body(created)).to.equal(201);
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, i) => request(server).post('/pool/assign').set('x-test-user', `client${i}`)),
        );
        const tokens = answers.filter((r) => r.status === 200).map((r) => r.body.token as string);
        expect(new Set(tokens).size).to.equal(20);
        const empty = answers.filter((r) => r.status === 404 && r.body.code === 'pool_empty');
        expect(empty, answers.map((r) => `${r.status} ${body(r)}`).join('\n')).to.have.length(30);
      } finally {
        server.close();
      }
    });
  }

  it('when Redis is down, answers 503 storage_failed, and serves again once it is back', async () => {
    const app = testApp(redisPool.make(Date.now));
    const caller = () => request(app).post('/pool/assign').set('x-test-user', 'alice');
    expectProblem(await caller(), 404, 'pool_empty');
    await redis.kill();
    expectProblem(await caller(), 503, 'storage_failed');
    await redis.start();
    await waitFor(async () => (await caller()).status === 404, 10_000);
  });
});
