/**
 * A small round-robin HTTP load balancer for tests: each request goes to the next upstream in
 * turn, with its method, headers and body passed through and the answer (status, headers, body)
 * streamed back. It stands in front of issuer replicas so that consecutive requests of one test
 * land on different processes, as they would behind nginx.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A running proxy. */
export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Stops listening and closes every connection, to clients and to upstreams. */
  stop(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `upstreams` (base URLs like `http://127.0.0.1:1234`). */
export async function startRoundRobinProxy(upstreams: string[]): Promise<RoundRobinProxy> {
  if (upstreams.length === 0) throw new Error('a round-robin proxy needs at least one upstream');
  const targets = upstreams.map((u) => new URL(u));
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const target = targets[next]!;
    next = (next + 1) % targets.length;
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream ${target.host}: ${err.message}`);
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
