/**
 * What running docker-compose.yml's nginx load balancers without Docker takes: a DNS server
 * standing in for Docker's (127.0.0.11) that answers a service name with its replicas'
 * addresses, and mechanical substitutions in the repository's nginx config.
 */
import { createSocket, type Socket } from 'node:dgram';

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
export function substitute(conf: string, file: string, from: string, to: string): string {
  const found = conf.split(from).length - 1;
  if (found !== 1) throw new Error(`"${from}" occurs ${found} times in ${file}, not once`);
  return conf.replace(from, to);
}
