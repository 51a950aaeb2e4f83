/**
 * How users are shown over the API (never the password hash).
 */
import type { z } from 'zod';
import type { UserRecord } from '../domain/user-record.js';
import type { userViewSchema } from './response-schemas.js';

/** A user as the API shows it. */
export type UserView = z.infer<typeof userViewSchema>;

/** The view of a user. */
export function userView(user: UserRecord): UserView {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    status: user.status,
    createdAt: new Date(user.createdAt).toISOString(),
    updatedAt: new Date(user.updatedAt).toISOString(),
    keyPolicy: user.keyPolicy === null ? null : { ...user.keyPolicy, scopes: [...user.keyPolicy.scopes] },
  };
}
