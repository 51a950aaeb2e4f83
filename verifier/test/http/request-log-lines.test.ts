import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import { addRequestLogFields, baseMiddleware, createLogger, type Logger } from '@akm/common';

/** Fields a handler adds to its request's line: the verifier's, and the awkward ones. */
const CASES: Record<string, unknown>[] = [
  { keyId: 'k_0123456789', sub: 'alice', outcome: 'ok', latencyMs: 0.1234 },
  { sub: 'quote " backslash \\ tab \t newline \n nul \u0000 é 😀 lone \ud800', outcome: 'rate_limited', latencyMs: 17 },
  { keyId: undefined, sub: null, outcome: 'expired', latencyMs: Number.NaN, retry: Number.POSITIVE_INFINITY, flag: true, off: false, neg: -0, big: 1e21 },
  { token: 'must be redacted', outcome: 'ok' },
  { password: 'hunter2' },
  { nested: { key: 'must be redacted', fine: 1 } },
  { nested: { d: 'private part' } },
  { nested: { deep: { key: 'x' } } },
  { list: [1, 'two'] },
  { when: new Date(0) },
  { err: new Error('boom') },
  { nested: { when: new Date(0), list: [] } },
  { req: 'shadowing the request field' },
  { 'odd "name"': 1, '': 'empty' },
];

function capture(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

async function serve(logger: Logger, status: number): Promise<Server> {
  const app = express();
  app.use(...baseMiddleware(logger));
  app.get('/case/:n', (req, res) => {
    addRequestLogFields(res, CASES[Number(req.params.n)]!);
    res.status(status).json({});
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

describe('request log: lines written without pino\'s serializer are the ones pino writes', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  for (const status of [200, 503, 500]) {
    it(`writes the same bytes as pino, redactions included, for every kind of field (status ${status})`, async () => {
      const direct: string[] = [];
      const general: string[] = [];
      // A logger createLogger made writes flat lines itself; its child (same bindings) goes through pino.
      const writer = createLogger({ name: 'akm-test', level: 'info', destination: capture(direct) });
      const pinoOnly = createLogger({ name: 'akm-test', level: 'info', destination: capture(general) }).child({});
      // Which lines went through pino's log methods on the writer (the general path).
      const throughPino: unknown[] = [];
      for (const level of ['info', 'warn', 'error'] as const) {
        const method = writer[level].bind(writer);
        writer[level] = ((fields: { requestId?: unknown }, msg: string) => {
          throughPino.push(fields.requestId);
          method(fields, msg);
        }) as typeof method;
      }
      for (const logger of [writer, pinoOnly]) servers.push(await serve(logger, status));
      for (let n = 0; n < CASES.length; n++) {
        for (const server of servers) {
          const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/case/${n}?apiKey=secret`, {
            headers: { 'x-request-id': `case-${n}-abcdefgh` },
          });
          expect(res.status).to.equal(status);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const steady = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"').replace(/"responseTime":\d+/, '"responseTime":0');
      expect(direct).to.have.length(CASES.length);
      expect(direct.map(steady)).to.deep.equal(general.map(steady));
      const parsed = direct.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed[0]).to.deep.include({ level: { 200: 30, 503: 40, 500: 50 }[status], name: 'akm-test', requestId: 'case-0-abcdefgh', req: { method: 'GET', url: '/case/0?[redacted]' }, keyId: 'k_0123456789' });
      expect(parsed[3]!.token).to.equal('[redacted]');
      expect(parsed[5]!.nested).to.deep.equal({ key: '[redacted]', fine: 1 });
      expect(throughPino, 'flat lines are written directly; the others by pino').to.deep.equal(
        CASES.flatMap((_, n) => (n < 3 || n === 12 || n === 13 ? [] : [`case-${n}-abcdefgh`])),
      );
      for (const line of direct) expect(line).to.not.match(/secret|hunter2|must be redacted|private part/);
    });
  }
});
