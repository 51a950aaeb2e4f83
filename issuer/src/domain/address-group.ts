/**
 * The unit in which sign-in attempts are counted per client: an IPv4 address, or the /64
 * network of an IPv6 one (a single host commonly holds a whole /64, so counting its addresses
 * apart would give one attacker 2^64 allowances and as many entries).
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The counting unit of a client address (`req.ip`): `1.2.3.4`, or `2001:db8:0:1::/64`. */
export function addressGroup(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  return `${hextets(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, in lower-case hex without leading zeros. */
function hextets(ip: string): string[] {
  const address = ip.split('%')[0]!;
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : []);
  const front = groupsOf(head);
  const back = groupsOf(tail);
  const last = tail === undefined ? front : back;
  // An IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two groups.
  if (last.at(-1)?.includes('.')) {
    const [a, b, c, d] = last.pop()!.split('.').map(Number) as [number, number, number, number];
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = tail === undefined ? [] : Array.from({ length: 8 - front.length - back.length }, () => '0');
  return [...front, ...missing, ...back].map((g) => parseInt(g, 16).toString(16));
}
