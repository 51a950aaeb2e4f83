/**
 * What happened to keys: a key's usage per period and its events, and the busiest keys of a
 * window. Admins (`/admin/…`) see every key; a signed-in user (`/me/…`) sees only their own, by
 * user id (another's is 404 like an unknown id, as for every `/me/keys/:id` route).
 */
import { Router, type RequestHandler, type Response } from 'express';
import { AppError, parseInput } from '@akm/common';
import type { KeyRecord } from '../domain/key-record.js';
import type { KeyService } from '../domain/key-service.js';
import type { UsageService } from '../domain/usage-service.js';
import type { UserService } from '../domain/user-service.js';
import { failWith } from './failures.js';
import { encodeCursor } from './cursors.js';
import { toSeconds } from './key-schemas.js';
import { keyView } from './key-view.js';
import { callerUserId, ownKeyOf } from './own-keys.js';
import { keyEventsQuery, keyUsageQuery, topUsageQuery } from './usage-schemas.js';
import { keyEventView, keyUsageView, topUsageView } from './usage-view.js';

/** Options of {@link createKeyActivityRoutes}. */
export interface KeyActivityRoutesOptions {
  keys: KeyService;
  /** Who the signed-in caller is, for `/me/…`. */
  users: Pick<UserService, 'getUser'>;
  usage: UsageService;
  requireAdmin: RequestHandler;
  requireSession: RequestHandler;
  now: () => number;
}

type Scope = 'admin' | 'own';

/** Creates the router of key usage, key events and the busiest keys. */
export function createKeyActivityRoutes(options: KeyActivityRoutesOptions): Router {
  const { keys, usage, now } = options;
  const router = Router();

  /** The key of the request, if the caller may see it. */
  async function keyOf(res: Response, id: string, scope: Scope): Promise<KeyRecord> {
    if (scope === 'own') return (await ownKeyOf({ keys, users: options.users }, res, id)).key;
    const key = await keys.getKey(id);
    if (!key) throw new AppError('not_found', `no key ${id}`);
    return key;
  }

  for (const [prefix, scope, guard] of [
    ['/admin', 'admin', options.requireAdmin],
    ['/me', 'own', options.requireSession],
  ] as const) {
    router.get(`${prefix}/keys/:id/usage`, guard, async (req, res) => {
      const key = await keyOf(res, String(req.params.id), scope);
      const query = parseInput(keyUsageQuery, req.query, 'query');
      const result = await usage.keyUsage(key, {
        ...(query.from !== undefined ? { from: toSeconds(query.from) } : {}),
        ...(query.to !== undefined ? { to: toSeconds(query.to) } : {}),
        ...(query.granularity !== undefined ? { granularity: query.granularity } : {}),
      });
      if (!result.ok) failWith(result.failure);
      res.json(keyUsageView(key.id, result.value));
    });

    router.get(`${prefix}/keys/:id/events`, guard, async (req, res) => {
      const key = await keyOf(res, String(req.params.id), scope);
      const query = parseInput(keyEventsQuery, req.query, 'query');
      const page = await keys.keyEvents(key.id, query.limit, query.cursor);
      res.json({ items: page.items.map(keyEventView), nextCursor: encodeCursor(page.next) });
    });

    router.get(`${prefix}/usage/top`, guard, async (req, res) => {
      const query = parseInput(topUsageQuery, req.query, 'query');
      const top = await usage.top({
        by: query.by,
        windowSeconds: query.window,
        limit: query.limit,
        // A sign-in that is no user (akm admin-token) owns no key: an owner id no key has.
        ...(scope === 'own' ? { ownerId: (await callerUserId({ users: options.users }, res)) ?? '' } : {}),
      });
      const records = new Map<string, KeyRecord>();
      for (const { keyId } of top.items) {
        const record = await keys.getKey(keyId);
        if (record) records.set(keyId, record);
      }
      res.json(topUsageView(top, query.by, (id) => records.get(id), now()));
    });
  }

  router.get('/me/keys/:id', options.requireSession, async (req, res) => {
    res.json(keyView(await keyOf(res, String(req.params.id), 'own'), now()));
  });

  return router;
}
