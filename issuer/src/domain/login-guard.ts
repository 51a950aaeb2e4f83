/**
 * Brute-force protection of sign-in (rate-limiter-flexible): attempts are counted per user
 * name and per client address as they begin, and a successful one is given back; past either
 * limit, sign-in is refused for a while, whatever the password.
 *
 * Counting an attempt before its password is checked (not after it failed) is what makes the
 * limit hold under concurrency: a password check takes a scrypt derivation (tens of ms), and a
 * guard that only counted failures let every request of a parallel burst through while the
 * first ones were still being checked.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** Limits of the login guard. */
export interface LoginGuardOptions {
  /** Failed (or unfinished) attempts allowed per user name within `windowSeconds`. Default 5. */
  perUser?: number;
  /** Failed (or unfinished) attempts allowed per client address within `windowSeconds`. Default 50. */
  perAddress?: number;
  /** Window and block time, seconds. Default 900. */
  windowSeconds?: number;
}

/** Outcome of a guard check: expected failures are data. */
export type GuardCheck = { ok: true } | { ok: false; retryAfterSeconds: number };

/** The login guard. */
export interface LoginGuard {
  /**
   * Counts one attempt for this user name and address, before the password is checked; refused
   * once either has used its allowance in the window. An attempt that fails stays counted.
   */
  begin(username: string, address: string): Promise<GuardCheck>;
  /** A successful sign-in: the user name's count is cleared and the address's attempt given back. */
  recordSuccess(username: string, address: string): Promise<void>;
}

/** Creates the login guard (counts held in memory: one issuer process). */
export function createLoginGuard(options: LoginGuardOptions = {}): LoginGuard {
  const windowSeconds = options.windowSeconds ?? 900;
  const byUser = new RateLimiterMemory({ keyPrefix: 'login_user', points: options.perUser ?? 5, duration: windowSeconds });
  const byAddress = new RateLimiterMemory({ keyPrefix: 'login_ip', points: options.perAddress ?? 50, duration: windowSeconds });
  const userKey = (u: string) => u.toLowerCase();

  return {
    async begin(username, address) {
      const results = await Promise.allSettled([byUser.consume(userKey(username)), byAddress.consume(address)]);
      let waitMs = -1;
      for (const result of results) {
        if (result.status === 'fulfilled') continue;
        // consume() rejects with a RateLimiterRes when over the limit; anything else is a real error.
        if (!(result.reason instanceof RateLimiterRes)) throw result.reason;
        waitMs = Math.max(waitMs, result.reason.msBeforeNext);
      }
      return waitMs < 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
    async recordSuccess(username, address) {
      await Promise.all([byUser.delete(userKey(username)), byAddress.reward(address, 1)]);
    },
  };
}
