/** Shapes of the issuer's API answers that the console reads. */

export const OUTCOMES = ['served', 'rate_limited', 'credits_exhausted', 'forbidden', 'revoked', 'disabled', 'expired'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Counts = Record<Outcome, number>;

/** One rate limit: `limit` requests per fixed window of `windowSeconds`. */
export interface RateLimit {
  name: string;
  limit: number;
  windowSeconds: number;
}

/** A key's credits as the API takes them. */
export interface CreditsInput {
  remaining: number;
  refill?: { amount: number; interval: 'day' | 'month' };
}

export interface Key {
  id: string;
  sub: string;
  role: 'user' | 'admin';
  name: string | null;
  rateLimit: number;
  limits: RateLimit[];
  scopes: string[];
  /** What was granted at `grantedAt`; null: unlimited. */
  credits: { granted: number; grantedAt: string; refill?: CreditsInput['refill'] } | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'disabled' | 'revoked' | 'expired';
  /** When a rolled key stops working; null for a key never rolled. */
  revokeAt: string | null;
  rolledTo: string | null;
  rolledFrom: string | null;
}

/** A key as issued (by `POST /admin/keys` or a roll): with its string, this once. */
export type CreatedKey = Key & { key: string };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Usage {
  granularity: 'minute' | 'hour' | 'day';
  from: string;
  to: string;
  items: Array<{ at: string } & Counts>;
  totals: Counts;
}

export interface KeyEventView {
  id: string;
  type: string;
  at: string;
  version: number;
  status: string;
  rateLimit: number;
  expiresAt: string;
  requestId: string | null;
}

export interface TopUsage {
  by: string;
  from: string;
  to: string;
  items: Array<Pick<Key, 'id' | 'sub' | 'name' | 'status'> & Counts>;
}

export interface User {
  username: string;
  role: 'user' | 'admin';
  status: 'active' | 'disabled';
  createdAt: string;
  updatedAt: string;
}

/** Words for an outcome. */
export const OUTCOME_LABELS: Record<Outcome, string> = {
  served: 'served',
  rate_limited: 'over the limit',
  credits_exhausted: 'out of credits',
  forbidden: 'forbidden',
  revoked: 'revoked',
  disabled: 'disabled',
  expired: 'expired',
};
