/**
 * The self-service rule for a key id in a `/me/keys/…` path: it must be one of the caller's own
 * keys, by user id (not by name: a user created under a deleted user's name owns none of the old
 * user's keys). Anyone else's key is answered exactly like an unknown id, 404, so that key ids
 * cannot be probed.
 */
import type { Response } from 'express';
import { AppError } from '@akm/common';
import type { KeyRecord } from '../domain/key-record.js';
import type { KeyService } from '../domain/key-service.js';
import type { UserRecord } from '../domain/user-record.js';
import type { UserService } from '../domain/user-service.js';
import { principalOf } from './auth.js';

/** What {@link ownKeyOf} reads. */
export interface OwnKeyLookup {
  keys: Pick<KeyService, 'getKey'>;
  users: Pick<UserService, 'getUser'>;
}

/** The user id of the signed-in caller, or undefined for a sign-in that is no user (`akm admin-token`). */
export async function callerUserId(lookup: Pick<OwnKeyLookup, 'users'>, res: Response): Promise<string | undefined> {
  return (await lookup.users.getUser(principalOf(res).sub))?.id;
}

/**
 * The caller's own key `id`, with the caller's user record; 404 `not_found` for an unknown id and
 * for anyone else's key alike.
 */
export async function ownKeyOf(lookup: OwnKeyLookup, res: Response, id: string): Promise<{ key: KeyRecord; me: UserRecord }> {
  const key = await lookup.keys.getKey(id);
  const me = await lookup.users.getUser(principalOf(res).sub);
  if (!key || !me || key.ownerId !== me.id) throw new AppError('not_found', `you have no key ${id}`);
  return { key, me };
}
