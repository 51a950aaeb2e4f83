/**
 * What running docker-compose.yml's nginx load balancers without Docker takes: a DNS server
 * standing in for Docker's (127.0.0.11) that answers a service name with its replicas'
 * addresses, and a real nginx on the repository's config with mechanical substitutions.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx, type TestServer } from './processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A stub DNS server on a free loopback UDP port. */
export interface StubDns {
  port: number;
  close(): void;
}

/** A DNS server answering A queries for `name` with `addresses` (and NXDOMAIN for any other name). */
export async function startDns(name: string, addresses: string[]): Promise<StubDns> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, from) => {
    // Header (12 bytes), then the question: length-prefixed labels, a zero, type and class.
    const labels: string[] = [];
    let at = 12;
    while (query[at]! > 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString('ascii'));
      at += 1 + query[at]!;
    }
    const question = query.subarray(12, at + 5);
    const type = query.readUInt16BE(at + 1);
    const known = labels.join('.').toLowerCase() === name && type === 1;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(known ? addresses.length : 0, 6);
    const answers = known
      ? addresses.map((address) => {
          const record = Buffer.alloc(16);
          record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
          record.writeUInt16BE(1, 2); // A
          record.writeUInt16BE(1, 4); // IN
          record.writeUInt32BE(5, 6); // TTL, seconds
          record.writeUInt16BE(4, 10);
          address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
          return record;
        })
      : [];
    socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

/**
 * `conf` (the text of the repository file `file`) with `from` replaced by `to`.
 * @throws when `from` does not occur exactly once: the config changed and the test must follow.
 */
function substitute(conf: string, file: string, from: string, to: string): string {
  const found = conf.split(from).length - 1;
  if (found !== 1) throw new Error(`"${from}" occurs ${found} times in ${file}, not once`);
  return conf.replace(from, to);
}

/** A real nginx running one of the repository's load-balancer configs. */
export interface ComposeLb {
  nginx: TestServer;
  /** `$upstream_addr $upstream_status $status` of each request nginx answered, oldest first. */
  upstreamsUsed(): string[];
  /** What nginx complained about, for a failure's message. */
  errors(): string;
}

/**
 * Runs the repository's `file` (an nginx config of deploy/nginx/ balancing over the replicas of
 * compose service `service` on `servicePort`) with a real nginx, with three mechanical
 * substitutions: Docker's resolver by `dns`, `listen <servicePort>;` by a free loopback port, and
 * the replicas' port by `replicaPort`.
 */
export function startComposeLb(file: string, service: string, servicePort: number, dns: StubDns, replicaPort: number): Promise<ComposeLb> {
  const shipped = readFileSync(join(ROOT, file), 'utf8');
  return startNginx({
    http: (port, dir) => {
      let conf = substitute(shipped, file, 'resolver 127.0.0.11 ', `resolver 127.0.0.1:${dns.port} `);
      conf = substitute(conf, file, `listen ${servicePort};`, `listen 127.0.0.1:${port};`);
      conf = substitute(conf, file, `http://${service}:${servicePort}`, `http://${service}:${replicaPort}`);
      return `log_format upstreams '$upstream_addr $upstream_status $status';\naccess_log ${join(dir, 'upstreams.log')} upstreams;\n${conf}`;
    },
  }).then((nginx) => ({
    nginx,
    upstreamsUsed: () => readFileSync(join(nginx.dir, 'upstreams.log'), 'utf8').split('\n').filter(Boolean),
    errors: () => readFileSync(join(nginx.dir, 'error.log'), 'utf8'),
  }));
}
