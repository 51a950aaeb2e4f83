/**
 * Brute-force protection of sign-in, keyed as OWASP advises so that it cannot be turned into a
 * weapon against the users it protects:
 *
 * - per user name **and** client address: a few attempts (5 per 15 minutes). Guessing one
 *   user's password from one place stops there, and locks out nobody elsewhere.
 * - per user name, from addresses the user has **not** signed in from lately: a slower ceiling
 *   (20 per 15 minutes) against guessing from many addresses. An address where the user signed
 *   in successfully (within 30 days) is exempt, so an attacker elsewhere cannot lock a user out
 *   of their usual address.
 * - per client address, all names (50 per 15 minutes), against one place trying many names;
 *   names that signed in from that address lately are exempt, so one bad neighbour behind a
 *   shared address does not lock out everyone there.
 *
 * An attempt is counted when it begins, before its password is checked, and a successful one is
 * given back: a password check takes a scrypt derivation (tens of ms), and a guard that counted
 * only failures let a whole parallel burst through. An attempt that is refused counts nothing and
 * creates no entry, so memory is bounded by what is allowed (per address, at most `perAddress`
 * names in a window), not by the names sent. Addresses are counted per IPv4 address or IPv6 /64.
 */
import { addressGroup } from './address-group.js';
import { createAttemptWindows } from './attempt-windows.js';

/** Limits of the login guard; counts are attempts within `windowSeconds`. */
export interface LoginGuardOptions {
  /** Attempts per user name from one address. Default 5. */
  perUserAddress?: number;
  /** Attempts per user name from addresses it has not signed in from lately. Default 20. */
  perUser?: number;
  /** Attempts per address, all user names but those that signed in from it lately. Default 50. */
  perAddress?: number;
  /** Window and block time, seconds. Default 900. */
  windowSeconds?: number;
  /** How long an address where a user signed in stays exempt from the ceilings, seconds. Default 30 days. */
  knownAddressSeconds?: number;
  /** Most addresses remembered per user (the oldest is forgotten first). Default 10. */
  knownAddressesPerUser?: number;
}

/** One attempt under way: what {@link LoginGuard.succeeded} gives back. */
export interface LoginAttempt {
  readonly user: string;
  readonly address: string;
  /** Whether the address was a known one for the user (the ceilings were not charged). */
  readonly known: boolean;
}

/** Outcome of a guard check: expected failures are data. */
export type GuardCheck = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfterSeconds: number };

/** The login guard. */
export interface LoginGuard {
  /** Counts one attempt of `username` from client address `ip`, or refuses it (counting nothing). */
  begin(username: string, ip: string): GuardCheck;
  /** The attempt signed in: the user's count at this address is cleared, the others' attempt given back. */
  succeeded(attempt: LoginAttempt): void;
  /** Lifts every lock on `username` (an admin's unlock or password reset). */
  unlock(username: string): void;
  /** Entries held (counts and known addresses): what the guard's memory grows with. */
  size(): number;
}

const DAY_SECONDS = 24 * 3600;

/** Creates the login guard (held in memory: one issuer process). */
export function createLoginGuard(options: LoginGuardOptions & { now: () => number }): LoginGuard {
  const { now } = options;
  const windowMs = (options.windowSeconds ?? 900) * 1000;
  const knownMs = (options.knownAddressSeconds ?? 30 * DAY_SECONDS) * 1000;
  const knownPerUser = options.knownAddressesPerUser ?? 10;
  const byPair = createAttemptWindows({ limit: options.perUserAddress ?? 5, windowMs, now });
  const byUser = createAttemptWindows({ limit: options.perUser ?? 20, windowMs, now });
  const byAddress = createAttemptWindows({ limit: options.perAddress ?? 50, windowMs, now });
  /** user → (address → until when it is known), insertion-ordered: oldest first. */
  const known = new Map<string, Map<string, number>>();

  // User names are stored in lower case: `Alice` and `alice` are one name to guess.
  const userKey = (username: string) => username.toLowerCase();
  // The length makes the user part unambiguous whatever characters the name has.
  const pairPrefix = (user: string) => `${user.length}:${user}:`;

  function isKnown(user: string, address: string): boolean {
    const until = known.get(user)?.get(address);
    return until !== undefined && until > now();
  }

  function remember(user: string, address: string): void {
    const addresses = known.get(user) ?? new Map<string, number>();
    addresses.delete(address);
    addresses.set(address, now() + knownMs);
    for (const [oldest, until] of addresses) {
      if (addresses.size <= knownPerUser && until > now()) break;
      addresses.delete(oldest);
    }
    known.set(user, addresses);
  }

  return {
    begin(username, ip) {
      const user = userKey(username);
      const address = addressGroup(ip);
      const attempt: LoginAttempt = { user, address, known: isKnown(user, address) };
      const pair = [byPair, pairPrefix(user) + address] as const;
      const charged = attempt.known ? [pair] : [pair, [byUser, user] as const, [byAddress, address] as const];
      const waitMs = Math.max(...charged.map(([windows, key]) => windows.waitMs(key)));
      if (waitMs > 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
      for (const [windows, key] of charged) windows.add(key);
      return { ok: true, attempt };
    },
    succeeded({ user, address, known: wasKnown }) {
      byPair.delete(pairPrefix(user) + address);
      if (!wasKnown) {
        byUser.giveBack(user);
        byAddress.giveBack(address);
      }
      remember(user, address);
    },
    unlock(username) {
      const user = userKey(username);
      byUser.delete(user);
      byPair.deletePrefix(pairPrefix(user));
    },
    size() {
      let addresses = 0;
      for (const [user, entries] of known) {
        for (const [address, until] of entries) if (until <= now()) entries.delete(address);
        if (entries.size === 0) known.delete(user);
        addresses += entries.size;
      }
      return byPair.size() + byUser.size() + byAddress.size() + addresses;
    },
  };
}
