/**
 * Counts of attempts per key in fixed windows (a port: the login guard's store implements it; in
 * PostgreSQL for replicas, `store/postgres-login-guard-store.ts`). The implementation here is
 * held in memory (one issuer), and forgets a key once its window
 * has passed. Every window lasts the same time, so the map's insertion order is also the order in
 * which windows end: expired ones are dropped from its front as a side effect of each use, and the
 * map never holds more than the keys used within one window. Reading a key never creates it.
 */

/** Options of {@link createAttemptWindows}. */
export interface AttemptWindowsOptions {
  /** Attempts allowed per key within one window. */
  limit: number;
  /** Length of a window, milliseconds; it starts at a key's first attempt. */
  windowMs: number;
  /** The clock, milliseconds since epoch. */
  now: () => number;
}

/** Fixed-window attempt counts. */
export interface AttemptWindows {
  /** Milliseconds until `key` may make another attempt; 0 when it may now. Creates nothing. */
  waitMs(key: string): Promise<number>;
  /** Counts one attempt of `key`, opening its window if it has none. */
  add(key: string): Promise<void>;
  /** Takes back one attempt of `key` (one that turned out legitimate); forgets a key left with none. */
  giveBack(key: string): Promise<void>;
  /** Forgets `key`. */
  delete(key: string): Promise<void>;
  /** Forgets every key starting with `prefix` (a walk over the live keys: for rare admin actions). */
  deletePrefix(prefix: string): Promise<void>;
  /** Keys with a live window. */
  size(): Promise<number>;
}

interface Window {
  used: number;
  /** Milliseconds since epoch. */
  endsAt: number;
}

/** Creates fixed-window attempt counts. */
export function createAttemptWindows(options: AttemptWindowsOptions): AttemptWindows {
  const { limit, windowMs, now } = options;
  const windows = new Map<string, Window>();

  /** Drops the windows that have ended, oldest first; returns the time it used. */
  function prune(): number {
    const t = now();
    for (const [key, window] of windows) {
      if (window.endsAt > t) break;
      windows.delete(key);
    }
    return t;
  }

  /** The live window of `key`, if any. */
  function live(key: string, t: number): Window | undefined {
    const window = windows.get(key);
    // A clock that went back can leave an ended window behind a live one: treat it as gone.
    if (window && window.endsAt <= t) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }

  return {
    async waitMs(key) {
      const t = prune();
      const window = live(key, t);
      return window && window.used >= limit ? window.endsAt - t : 0;
    },
    async add(key) {
      const t = prune();
      const window = live(key, t);
      if (window) window.used += 1;
      else windows.set(key, { used: 1, endsAt: t + windowMs });
    },
    async giveBack(key) {
      const window = live(key, prune());
      if (!window) return;
      window.used -= 1;
      // A window with nothing in it is no different from none: keep no entry for it.
      if (window.used <= 0) windows.delete(key);
    },
    async delete(key) {
      windows.delete(key);
    },
    async deletePrefix(prefix) {
      for (const key of windows.keys()) if (key.startsWith(prefix)) windows.delete(key);
    },
    async size() {
      prune();
      return windows.size;
    },
  };
}
