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
 *
 * The counts live in a {@link LoginGuardStore}: in memory for one issuer, in PostgreSQL for
 * replicas (so that the limits hold across all of them, whichever replica an attempt reaches).
 */
import { addressGroup } from './address-group.js';
import { createAttemptWindows, type AttemptWindows } from './attempt-windows.js';

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
  begin(username: string, ip: string): Promise<GuardCheck>;
  /** The attempt signed in: the user's count at this address is cleared, the others' attempt given back. */
  succeeded(attempt: LoginAttempt): Promise<void>;
  /** Lifts every lock on `username` (an admin's unlock or password reset). */
  unlock(username: string): Promise<void>;
  /** Entries held (counts and known addresses): what the guard's memory grows with. */
  size(): Promise<number>;
}

/** Addresses each user signed in from lately (a port, like {@link AttemptWindows}). */
export interface KnownAddresses {
  /** Whether `user` signed in from `address` within the known period. */
  isKnown(user: string, address: string): Promise<boolean>;
  /** Records a sign-in of `user` from `address`, keeping the latest `perUser` addresses. */
  remember(user: string, address: string): Promise<void>;
  /** Addresses remembered (live ones). */
  size(): Promise<number>;
}

/** Where the guard keeps its counts. */
export interface LoginGuardStore {
  /** The windows of one kind of count, with its limit. */
  windows(kind: 'pair' | 'user' | 'address', options: { limit: number; windowMs: number }): AttemptWindows;
  /** The known addresses, kept `knownMs` after a sign-in, at most `perUser` a user. */
  known(options: { knownMs: number; perUser: number }): KnownAddresses;
  /** Runs one step of the guard so that no other step (of any process) runs in between. */
  atomically<T>(work: () => Promise<T>): Promise<T>;
}

const DAY_SECONDS = 24 * 3600;

/** The guard's counts in memory: one issuer process. */
export function createMemoryLoginGuardStore(now: () => number): LoginGuardStore {
  let turn: Promise<unknown> = Promise.resolve();
  return {
    windows: (_kind, { limit, windowMs }) => createAttemptWindows({ limit, windowMs, now }),
    known({ knownMs, perUser }) {
      /** user → (address → until when it is known), insertion-ordered: oldest first. */
      const known = new Map<string, Map<string, number>>();
      return {
        async isKnown(user, address) {
          const until = known.get(user)?.get(address);
          return until !== undefined && until > now();
        },
        async remember(user, address) {
          const addresses = known.get(user) ?? new Map<string, number>();
          addresses.delete(address);
          addresses.set(address, now() + knownMs);
          for (const [oldest, until] of addresses) {
            if (addresses.size <= perUser && until > now()) break;
            addresses.delete(oldest);
          }
          known.set(user, addresses);
        },
        async size() {
          let addresses = 0;
          for (const [user, entries] of known) {
            for (const [address, until] of entries) if (until <= now()) entries.delete(address);
            if (entries.size === 0) known.delete(user);
            addresses += entries.size;
          }
          return addresses;
        },
      };
    },
    atomically<T>(work: () => Promise<T>): Promise<T> {
      const result = turn.then(work);
      turn = result.catch(() => undefined);
      return result;
    },
  };
}

/** Creates the login guard; its counts live in `store` (default: memory, one issuer process). */
export function createLoginGuard(options: LoginGuardOptions & { now: () => number; store?: LoginGuardStore }): LoginGuard {
  const { now } = options;
  const store = options.store ?? createMemoryLoginGuardStore(now);
  const windowMs = (options.windowSeconds ?? 900) * 1000;
  const byPair = store.windows('pair', { limit: options.perUserAddress ?? 5, windowMs });
  const byUser = store.windows('user', { limit: options.perUser ?? 20, windowMs });
  const byAddress = store.windows('address', { limit: options.perAddress ?? 50, windowMs });
  const known = store.known({
    knownMs: (options.knownAddressSeconds ?? 30 * DAY_SECONDS) * 1000,
    perUser: options.knownAddressesPerUser ?? 10,
  });

  // User names are stored in lower case: `Alice` and `alice` are one name to guess.
  const userKey = (username: string) => username.toLowerCase();
  // The length makes the user part unambiguous whatever characters the name has.
  const pairPrefix = (user: string) => `${user.length}:${user}:`;

  return {
    begin: (username, ip) =>
      store.atomically(async (): Promise<GuardCheck> => {
        const user = userKey(username);
        const address = addressGroup(ip);
        const attempt: LoginAttempt = { user, address, known: await known.isKnown(user, address) };
        const pair = [byPair, pairPrefix(user) + address] as const;
        const charged = attempt.known ? [pair] : [pair, [byUser, user] as const, [byAddress, address] as const];
        let waitMs = 0;
        for (const [windows, key] of charged) waitMs = Math.max(waitMs, await windows.waitMs(key));
        if (waitMs > 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
        for (const [windows, key] of charged) await windows.add(key);
        return { ok: true, attempt };
      }),
    succeeded: ({ user, address, known: wasKnown }) =>
      store.atomically(async () => {
        await byPair.delete(pairPrefix(user) + address);
        if (!wasKnown) {
          await byUser.giveBack(user);
          await byAddress.giveBack(address);
        }
        await known.remember(user, address);
      }),
    unlock: (username) =>
      store.atomically(async () => {
        const user = userKey(username);
        await byUser.delete(user);
        await byPair.deletePrefix(pairPrefix(user));
      }),
    size: async () => (await byPair.size()) + (await byUser.size()) + (await byAddress.size()) + (await known.size()),
  };
}
