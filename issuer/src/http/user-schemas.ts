/**
 * Request shapes of sign-in and user management.
 */
import { z } from 'zod';
import { ROLES } from '@akm/common';
import { cursorParam } from './cursors.js';
import { scopesSchema } from './key-schemas.js';

/** A user's key policy: the bounds of the keys they create themselves. */
export const keyPolicySchema = z
  .strictObject({
    maxKeys: z.number().int().min(1).max(1000).meta({ description: 'Most live keys the user may hold.', example: 5 }),
    maxRateLimit: z.number().int().min(1).max(1_000_000).meta({ description: 'Most requests per minute any of their keys may allow.', example: 100 }),
    maxTtlSeconds: z.number().int().min(60).meta({ description: 'Longest lifetime of a key they create, seconds.', example: 2_592_000 }),
    scopes: scopesSchema.meta({ description: 'The scopes their keys may have, and get when none are asked for.', example: ['prices:read'] }),
  })
  .meta({ id: 'KeyPolicy' });

/** Longest user name, in characters. */
export const USERNAME_MAX_LENGTH = 64;

/** A user name: lower-case letters, digits and . _ -, starting with a letter or digit. */
export const usernameSchema = z
  .string()
  .min(1)
  .max(USERNAME_MAX_LENGTH)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only, starting with a letter or digit');

/** A new password. */
export const newPasswordSchema = z.string().min(12, 'at least 12 characters').max(256);

/**
 * Body of `POST /auth/login`; sizes only, so that the answer says nothing about the policy. A
 * name longer than any user name can be is refused here, before the login guard counts it.
 */
export const loginBody = z.strictObject({
  username: z.string().min(1).max(USERNAME_MAX_LENGTH),
  password: z.string().min(1).max(1024),
});

/** Body of `POST /me/password`. */
export const changePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(1024),
  newPassword: newPasswordSchema,
});

/** Body of `POST /auth/logout` (optional). */
export const logoutBody = z.strictObject({
  /** End every sign-in of the user, not only this one. */
  everywhere: z.boolean().default(false),
});

/** Body of `POST /admin/users`. */
export const createUserBody = z.strictObject({
  username: usernameSchema,
  password: newPasswordSchema,
  role: z.enum(ROLES).default('user'),
});

/** Body of `PATCH /admin/users/:username`. */
export const updateUserBody = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    password: newPasswordSchema.optional(),
    status: z.enum(['active', 'disabled']).optional(),
    keyPolicy: keyPolicySchema.nullable().optional(),
  })
  .refine((b) => b.role !== undefined || b.password !== undefined || b.status !== undefined || b.keyPolicy !== undefined, {
    message: 'give at least one of role, password, status, keyPolicy',
  });

/** Query of `GET /admin/users`. */
export const listUsersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The `nextCursor` of the previous page (it encodes the last name of that page). */
  cursor: cursorParam((decoded) => (usernameSchema.safeParse(decoded).success ? decoded : undefined)).optional(),
});
