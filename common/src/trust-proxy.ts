/**
 * `AKM_TRUST_PROXY`: which proxies in front of a service may say who the client is
 * (`X-Forwarded-For`). It becomes Express's `trust proxy` setting, so `req.ip` is the client's
 * address behind a load balancer instead of the balancer's own, which every client would share.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Express's `trust proxy`: false (the socket's address), a number of proxy hops in front of the
 * service, or the addresses, CIDR ranges and presets (`loopback`, `linklocal`, `uniquelocal`) of
 * the trusted proxies.
 */
export type TrustProxy = false | number | string[];

const PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` is an address, a CIDR range or a preset that Express understands. */
function isProxyEntry(entry: string): boolean {
  if (PRESETS.has(entry)) return true;
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Parses `AKM_TRUST_PROXY`: unset, empty, `false` or `0` trust no proxy; a whole number is the
 * hop count; otherwise a comma-separated list of addresses, CIDR ranges and presets. `true` is
 * refused: it would take any client's word for its own address.
 */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const text = value.trim();
  if (text === '' || text === 'false' || text === '0') return false;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((e) => e.trim());
  return entries.every(isProxyEntry) ? entries : undefined;
}

/** The `AKM_TRUST_PROXY` variable of a service's env schema. */
export const trustProxyVar = () =>
  z
    .string()
    .optional()
    .transform((value, ctx): TrustProxy => {
      const parsed = parseTrustProxy(value ?? '');
      if (parsed !== undefined) return parsed;
      ctx.addIssue({
        code: 'custom',
        message:
          value?.trim() === 'true'
            ? 'true would trust any client to name its own address: give the number of proxies in front (e.g. 1) or their addresses'
            : 'must be a number of proxy hops, or comma-separated addresses, CIDR ranges, loopback, linklocal or uniquelocal',
      });
      return z.NEVER;
    });
