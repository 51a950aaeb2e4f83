import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { Writable } from 'node:stream';
import { baseMiddleware, createLogger } from '@akm/common';
import { createSigner, signKey } from '../support/signing.js';
import { shown, useTestVerifier, type TestVerifier } from '../support/verifier-fixture.js';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Headers that differ per answer or per route whatever the middleware does. */
const PER_ANSWER = new Set(['date', 'etag', 'content-length', 'content-type', 'x-request-id', 'ratelimit', 'ratelimit-policy', 'connection', 'keep-alive']);

/** The header lines of an answer in the order they came, without the per-answer ones. */
function securityHeaderLines(res: request.Response): string[] {
  const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!PER_ANSWER.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return lines;
}

describe('verifier: base middleware (request id, security headers)', () => {
  const t = useTestVerifier({ instances: 2 });
  let a: TestVerifier;
  let b: TestVerifier;
  let helmetServer: Server | undefined;

  beforeEach(() => {
    [a, b] = t.verifiers as [TestVerifier, TestVerifier];
  });
  afterEach(async () => {
    await new Promise((resolve) => (helmetServer ? helmetServer.close(resolve) : resolve(undefined)));
    helmetServer = undefined;
  });

  it('gives each request without a usable X-Request-Id a new UUID-shaped id, never the same twice, and another in each instance', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push((await a.get('/healthz')).headers['x-request-id'] as string);
    const other = (await b.get('/healthz')).headers['x-request-id'] as string;
    const refused = await a.get('/healthz').set('X-Request-Id', 'not allowed: spaces');

    for (const id of [...ids, other]) expect(id).to.match(UUID_SHAPE);
    expect(new Set(ids).size, 'distinct ids').to.equal(ids.length);
    expect(ids).to.not.include(other);
    // Ids of one instance share no more than their per-process part with another's.
    expect(other.slice(0, 24)).to.not.equal(ids[0]!.slice(0, 24));
    expect(refused.headers['x-request-id']).to.match(UUID_SHAPE);
    expect((await a.get('/healthz').set('X-Request-Id', 'req-7')).headers['x-request-id']).to.equal('req-7');
  });

  it('answers with helmet\'s default headers byte for byte and in helmet\'s order, on 200, 401 and 404', async () => {
    const app = express();
    app.disable('x-powered-by');
    app.use(helmet());
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    helmetServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const helmetUrl = `http://127.0.0.1:${(helmetServer.address() as AddressInfo).port}`;
    const expected = securityHeaderLines(await request(helmetUrl).get('/healthz'));
    const key = await signKey(await createSigner());

    const answers = [await a.get('/healthz'), await a.get('/price?symbol=BTC', key.token), await a.get('/nope')];

    expect(expected.length, 'helmet sets its headers').to.be.at.least(10);
    expect(answers.map((r) => r.status)).to.deep.equal([200, 401, 404]);
    for (const res of answers) expect(securityHeaderLines(res).filter((l) => !/^www-authenticate:/i.test(l)), shown(res)).to.deep.equal(expected);
  });

  it('logs one line per request: completed when answered, aborted when the client left first, with req.log bound to the request id', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = express();
    app.use(...baseMiddleware(createLogger({ name: 'base-test', level: 'info', destination })));
    app.get('/answered', (req, res) => {
      req.log.info('inside the handler');
      res.json({ ok: true });
    });
    app.get('/never', () => {});
    helmetServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(helmetServer.address() as AddressInfo).port}`;

    await request(url).get('/answered').set('X-Request-Id', 'answered-1');
    const controller = new AbortController();
    const gone = fetch(`${url}/never`, { headers: { 'x-request-id': 'never-1' }, signal: controller.signal }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await gone;
    await new Promise((resolve) => setTimeout(resolve, 200));

    const of = (id: string) => lines.filter((l) => l.requestId === id).map((l) => l.msg);
    expect(of('answered-1')).to.deep.equal(['inside the handler', 'request completed']);
    expect(of('never-1')).to.deep.equal(['request aborted']);
    expect(lines.find((l) => l.msg === 'request completed')).to.deep.include({ req: { method: 'GET', url: '/answered' }, res: { statusCode: 200 } });
  });
});
