import { expect } from 'chai';
import request from 'supertest';
import { startTestIssuer, type TestIssuer } from '../support/issuer-fixture.js';

const show = (res: request.Response) => JSON.stringify(res.body);
const PASSWORD = 'a long enough password';

describe('issuer: every log line of a request carries its request id', () => {
  let issuer: TestIssuer;
  before(async () => {
    // No pool sweeps during the test: the only lines written are the requests' own.
    issuer = await startTestIssuer({ pool: { sweepIntervalMs: 3_600_000 } });
    const admin = `Bearer ${issuer.admin}`;
    const created = await request(issuer.url).post('/admin/users').set('Authorization', admin).send({ username: 'rita', password: PASSWORD });
    expect(created.status, show(created)).to.equal(201);
  });
  after(async () => {
    await issuer.destroy();
  });

  /**
   * Sends one request with `requestId` and answers the lines the issuer wrote meanwhile: from
   * just before it is sent to its `request completed` line.
   */
  async function linesOf(requestId: string, send: (id: string) => Promise<request.Response>, expectStatus: number): Promise<Array<Record<string, unknown>>> {
    const from = issuer.logs.length;
    const res = await send(requestId);
    expect(res.status, show(res)).to.equal(expectStatus);
    expect(res.headers['x-request-id']).to.equal(requestId);
    const lines = () => issuer.logs.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (let i = 0; i < 100 && !lines().some((l) => l.msg === 'request completed'); i++) await new Promise((r) => setImmediate(r));
    const all = lines();
    expect(all.some((l) => l.msg === 'request completed' && l.requestId === requestId), JSON.stringify(all)).to.equal(true);
    return all;
  }

  const admin = () => `Bearer ${issuer.admin}`;
  const cases: Array<[what: string, send: (id: string) => Promise<request.Response>, status: number, handlerLine?: string]> = [
    ['a sign-in', (id) => request(issuer.url).post('/auth/login').set('X-Request-Id', id).send({ username: 'rita', password: PASSWORD }), 200, 'signed in'],
    ['a refused sign-in', (id) => request(issuer.url).post('/auth/login').set('X-Request-Id', id).send({ username: 'rita', password: 'wrong wrong wrong' }), 401, 'sign-in refused'],
    ['a key creation', (id) => request(issuer.url).post('/admin/keys').set('X-Request-Id', id).set('Authorization', admin()).send({ sub: 'rita' }), 201],
    ['a pool generation', (id) => request(issuer.url).post('/pool/tokens').set('X-Request-Id', id).set('Authorization', admin()).send({ count: 2 }), 201, 'pool tokens generated'],
    ['a pool assignment', (id) => request(issuer.url).post('/pool/assign').set('X-Request-Id', id).set('Authorization', admin()), 200, 'pool token assigned'],
  ];

  for (const [what, send, status, handlerLine] of cases) {
    it(`${what}: every line written for it has the same requestId${handlerLine ? `, including "${handlerLine}"` : ''}`, async () => {
      const requestId = `req-${what.replace(/\W+/g, '-')}`;
      const lines = await linesOf(requestId, send, status);
      if (handlerLine) expect(lines.map((l) => l.msg), JSON.stringify(lines)).to.include(handlerLine);
      for (const line of lines) expect(line.requestId, `line without the request id: ${JSON.stringify(line)}`).to.equal(requestId);
    });
  }
});
