/**
 * Key endpoints: the admin's `/admin/keys` and the user's own `POST /key/disable`.
 * Each handler parses input, calls one domain function and shapes the answer.
 */
import { Router, type RequestHandler } from 'express';
import { AppError, parseInput, requestIdOf } from '@akm/common';
import type { KeyService } from '../domain/key-service.js';
import { apiKeyOf } from './auth.js';
import { failWith } from './failures.js';
import { keyView } from './key-view.js';
import { encodeCursor } from './cursors.js';
import { issueKeyBody, listKeysQuery, rollKeyBody, toSeconds, updateKeyBody } from './key-schemas.js';

/** Options of {@link createKeyRoutes}. */
export interface KeyRoutesOptions {
  service: KeyService;
  requireAdmin: RequestHandler;
  requireApiKey: RequestHandler;
  now: () => number;
  /** Counts issued keys. */
  onIssued?: () => void;
}

/** Creates the router of the key endpoints. */
export function createKeyRoutes(options: KeyRoutesOptions): Router {
  const { service, requireAdmin, requireApiKey, now } = options;
  const router = Router();

  router.post('/admin/keys', requireAdmin, async (req, res) => {
    const body = parseInput(issueKeyBody, req.body, 'key');
    const { expiresAt, ...rest } = body;
    const result = await service.issueKey(
      { ...rest, ...(expiresAt !== undefined ? { expiresAt: toSeconds(expiresAt) } : {}) },
      { requestId: requestIdOf(res) },
    );
    if (!result.ok) failWith(result.failure);
    options.onIssued?.();
    const { record, key } = result.value;
    res.status(201).location(`/admin/keys/${record.id}`).json({ ...keyView(record, now()), key });
  });

  router.get('/admin/keys', requireAdmin, async (req, res) => {
    const query = parseInput(listKeysQuery, req.query, 'query');
    const page = await service.listKeys({ sub: query.sub, status: query.status, limit: query.limit, beforeSeq: query.cursor });
    res.json({
      items: page.items.map((r) => keyView(r, now())),
      nextCursor: encodeCursor(page.next),
    });
  });

  router.get('/admin/keys/:id', requireAdmin, async (req, res) => {
    const record = await service.getKey(String(req.params.id));
    if (!record) throw new AppError('not_found', `no key ${req.params.id}`);
    res.json(keyView(record, now()));
  });

  router.patch('/admin/keys/:id', requireAdmin, async (req, res) => {
    const body = parseInput(updateKeyBody, req.body, 'change');
    const result = await service.updateKey(
      String(req.params.id),
      {
        rateLimit: body.rateLimit,
        limits: body.limits,
        credits: body.credits,
        status: body.status,
        ttl: body.ttl,
        ...(body.expiresAt !== undefined ? { expiresAt: toSeconds(body.expiresAt) } : {}),
      },
      { requestId: requestIdOf(res) },
    );
    if (!result.ok) failWith(result.failure);
    res.json(keyView(result.value, now()));
  });

  router.post('/admin/keys/:id/roll', requireAdmin, async (req, res) => {
    const { graceSeconds } = parseInput(rollKeyBody, req.body, 'roll');
    const result = await service.rollKey(String(req.params.id), graceSeconds, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    options.onIssued?.();
    const { record, key } = result.value;
    res.status(201).location(`/admin/keys/${record.id}`).json({ ...keyView(record, now()), key });
  });

  router.delete('/admin/keys/:id', requireAdmin, async (req, res) => {
    const result = await service.revokeKey(String(req.params.id), { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    res.status(204).end();
  });

  router.post('/key/disable', requireApiKey, async (_req, res) => {
    const own = apiKeyOf(res);
    const result = await service.updateKey(own.id, { status: 'disabled' }, { requestId: requestIdOf(res) });
    if (!result.ok) failWith(result.failure);
    res.json(keyView(result.value, now()));
  });

  return router;
}
