/** Shapes of the issuer's API answers that the console reads. */

export const OUTCOMES = ['served', 'rate_limited', 'credits_exhausted', 'forbidden', 'revoked', 'disabled', 'expired'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Counts = Record<Outcome, number>;

export interface Key {
  id: string;
  sub: string;
  role: 'user' | 'admin';
  name: string | null;
  rateLimit: number;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  status: 'active' | 'disabled' | 'revoked' | 'expired';
}

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
