/**
 * The token pool's HTTP endpoints, mounted at `/pool`. Authentication is the caller's: the
 * router only runs the two middlewares it is given and reads `res.locals.principal`.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError, parseInput } from '@akm/common';
import type { z } from 'zod';
import { generateTokensBody, poolTokenParam, type poolTokenViewSchema } from './pool-schemas.js';
import type { PoolOutcome, PoolPrincipal, PoolService } from './pool-service.js';
import type { PoolToken } from './pool-store.js';

/** Options of {@link createPoolRouter}. */
export interface PoolRouterOptions {
  service: PoolService;
  /**
   * Lets admins through and sets `res.locals.principal`; answers 401/403 itself otherwise.
   * Guards generating and deleting tokens.
   */
  requireAdmin: RequestHandler;
  /**
   * Lets any valid sign-in or API key through and sets `res.locals.principal`. Guards assigning,
   * unblocking, keep-alive, reading a token and the stats.
   */
  requireCaller: RequestHandler;
}

/** A pool token as the API shows it; times are RFC 3339. */
export type PoolTokenView = z.infer<typeof poolTokenViewSchema>;

/** The API view of a token. */
export function poolTokenView(token: PoolToken): PoolTokenView {
  return {
    token: token.token,
    state: token.state,
    assignedTo: token.holder,
    expiresAt: token.assignedUntil === null ? null : new Date(token.assignedUntil).toISOString(),
    aliveUntil: new Date(token.aliveUntil).toISOString(),
  };
}

const principalOf = (res: Response) => res.locals.principal as PoolPrincipal;

function valueOf<T>(outcome: PoolOutcome<T>): T {
  if (!outcome.ok) throw new AppError(outcome.code, outcome.message);
  return outcome.value;
}

const tokenOf = (params: unknown) => parseInput(poolTokenParam, params, 'token').token;

/** The caller, with the request's logger so that the pool's log lines carry the request id. */
const callerOf = (req: Request, res: Response): PoolPrincipal => ({ ...principalOf(res), log: req.log });

/**
 * Creates the pool router, to mount with `app.use('/pool', router)`.
 * @example
 * app.use('/pool', createPoolRouter({ service, requireAdmin, requireCaller }));
 */
export function createPoolRouter(options: PoolRouterOptions): Router {
  const { service, requireAdmin, requireCaller } = options;
  const router = Router();

  router.post('/tokens', requireAdmin, async (req, res) => {
    const { count } = parseInput(generateTokensBody, req.body ?? {}, 'request');
    const tokens = valueOf(await service.generateTokens(count, callerOf(req, res)));
    res.status(201).json({ tokens });
  });

  router.post('/assign', requireCaller, async (req, res) => {
    const token = valueOf(await service.assignToken(callerOf(req, res)));
    res.json(poolTokenView(token));
  });

  router.post('/tokens/:token/unblock', requireCaller, async (req, res) => {
    const token = valueOf(await service.unblockToken(tokenOf(req.params), callerOf(req, res)));
    res.json(poolTokenView(token));
  });

  router.post('/tokens/:token/keep-alive', requireCaller, async (req, res) => {
    const token = valueOf(await service.keepAliveToken(tokenOf(req.params), callerOf(req, res)));
    res.json(poolTokenView(token));
  });

  router.get('/tokens/:token', requireCaller, async (req, res) => {
    const token = valueOf(await service.getToken(tokenOf(req.params), callerOf(req, res)));
    res.json(poolTokenView(token));
  });

  router.delete('/tokens/:token', requireAdmin, async (req, res) => {
    valueOf(await service.deleteToken(tokenOf(req.params), callerOf(req, res)));
    res.status(204).end();
  });

  router.get('/stats', requireCaller, async (_req, res) => {
    res.json(await service.getStats());
  });

  return router;
}
