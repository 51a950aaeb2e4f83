/**
 * Brute-force protection of sign-in (rate-limiter-flexible): failures are counted per user
 * name and per client address; past either limit, sign-in is refused for a while, whatever
 * the password.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** Limits of the login guard. */
export interface LoginGuardOptions {
  /** Failures allowed per user name within `windowSeconds`. Default 5. */
  perUser?: number;
  /** Failures allowed per client address within `windowSeconds`. Default 50. */
  perAddress?: number;
  /** Window and block time, seconds. Default 900. */
  windowSeconds?: number;
}

/** Outcome of a guard check: expected failures are data. */
export type GuardCheck = { ok: true } | { ok: false; retryAfterSeconds: number };

/** The login guard. */
export interface LoginGuard {
  check(username: string, address: string): Promise<GuardCheck>;
  recordFailure(username: string, address: string): Promise<void>;
  recordSuccess(username: string): Promise<void>;
}

/** Creates the login guard (counts held in memory: one issuer process). */
export function createLoginGuard(options: LoginGuardOptions = {}): LoginGuard {
  const windowSeconds = options.windowSeconds ?? 900;
  const byUser = new RateLimiterMemory({ keyPrefix: 'login_user', points: options.perUser ?? 5, duration: windowSeconds });
  const byAddress = new RateLimiterMemory({ keyPrefix: 'login_ip', points: options.perAddress ?? 50, duration: windowSeconds });
  const userKey = (u: string) => u.toLowerCase();

  const over = (res: RateLimiterRes | null, points: number) => (res !== null && res.consumedPoints >= points ? res : undefined);

  return {
    async check(username, address) {
      const [u, a] = await Promise.all([byUser.get(userKey(username)), byAddress.get(address)]);
      const blocked = over(u, byUser.points) ?? over(a, byAddress.points);
      if (!blocked) return { ok: true };
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(blocked.msBeforeNext / 1000)) };
    },
    async recordFailure(username, address) {
      // consume() rejects once the limit is passed; the count is what matters here.
      await Promise.allSettled([byUser.consume(userKey(username)), byAddress.consume(address)]);
    },
    async recordSuccess(username) {
      await byUser.delete(userKey(username));
    },
  };
}
