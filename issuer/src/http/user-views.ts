/**
 * How users are shown over the API (never the password hash).
 */
import type { UserRecord } from '../domain/user-record.js';

/** A user as the API shows it. */
export interface UserView {
  username: string;
  role: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

/** The view of a user. */
export function userView(user: UserRecord): UserView {
  return {
    username: user.username,
    role: user.role,
    status: user.status,
    createdAt: new Date(user.createdAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
  };
}
