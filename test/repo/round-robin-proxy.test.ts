/**
 * The round-robin proxy the PostgreSQL pass puts in front of three issuer replicas: if it sent
 * every request to one of them, that pass would test one issuer, not three.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { stopEach } from '../support/teardown.js';

/** An upstream that answers with its name, the request's method, a header, and the body it got. */
async function startEcho(name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(req.url === '/missing' ? 404 : 201, { 'content-type': 'application/json', 'x-upstream': name });
      // Two writes: the answer is streamed back, not only a single buffered chunk.
      res.write(JSON.stringify({ name, method: req.method, path: req.url, header: req.headers['x-test'], body: Buffer.concat(chunks).toString() }));
      setTimeout(() => res.end('\n'), 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('test harness: the round-robin proxy in front of issuer replicas', () => {
  const upstreams: Array<{ url: string; server: Server }> = [];
  let proxy: RoundRobinProxy | undefined;

  before(async () => {
    for (const name of ['a', 'b', 'c']) upstreams.push(await startEcho(name));
    proxy = await startRoundRobinProxy(upstreams.map((u) => u.url));
  });
  after(() =>
    stopEach(
      () => proxy?.stop(),
      ...upstreams.map((u) => () => new Promise((resolve) => u.server.close(resolve))),
    ),
  );

  it('sends each request to the next upstream in turn, with method, path, headers and body, and passes the answer back', async () => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${proxy!.url}/things?n=${i}`, { method: 'PATCH', headers: { 'x-test': `h${i}` }, body: `body ${i}` });
      expect(res.status).to.equal(201);
      const answer = (await res.json()) as { name: string };
      expect(answer).to.deep.include({ method: 'PATCH', path: `/things?n=${i}`, header: `h${i}`, body: `body ${i}` });
      expect(res.headers.get('x-upstream')).to.equal(answer.name);
      names.push(answer.name);
    }
    expect(names).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('passes an error status through unchanged', async () => {
    expect((await fetch(`${proxy!.url}/missing`)).status).to.equal(404);
  });
});
