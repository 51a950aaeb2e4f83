/**
 * The pool endpoints as OpenAPI operations, from the schemas the pool router validates with.
 * The issuer's document takes them with the guards' problems it mounts them behind.
 */
import type { ApiOperation, ErrorCode } from '@akm/common';
import { generateTokensBody, generatedTokensSchema, poolStatsSchema, poolTokenParam, poolTokenViewSchema } from './pool-schemas.js';

/** The problems of the two guards the router is given. */
export interface PoolGuardProblems {
  admin: readonly ErrorCode[];
  caller: readonly ErrorCode[];
}

/** The pool's operations, mounted at `/pool`. */
export function poolOperations(guards: PoolGuardProblems): ApiOperation[] {
  const admin = { tags: ['pool'], security: ['session'] } as const;
  const caller = { tags: ['pool'], security: ['session', 'apiKey'] } as const;
  const token = { description: 'The token, as the pool shows it.', schema: poolTokenViewSchema };
  return [
    {
      ...admin, method: 'post', path: '/pool/tokens', operationId: 'generatePoolTokens', summary: 'Add tokens to the pool (admin)',
      body: generateTokensBody,
      responses: { 201: { description: 'The new tokens.', schema: generatedTokensSchema } },
      problems: [...guards.admin, 'validation_failed', 'malformed_json', 'pool_full'],
    },
    {
      ...caller, method: 'post', path: '/pool/assign', operationId: 'assignPoolToken', summary: 'Lease a free token',
      description: 'One holder holds at most POOL_MAX_PER_HOLDER tokens at once (409 holder_limit beyond).',
      responses: { 200: token },
      problems: [...guards.caller, 'pool_empty', 'holder_limit'],
    },
    {
      ...caller, method: 'post', path: '/pool/tokens/:token/unblock', operationId: 'unblockPoolToken', summary: 'Give a leased token back (its holder or an admin)',
      params: poolTokenParam,
      responses: { 200: token },
      problems: [...guards.caller, 'validation_failed', 'not_found', 'not_assigned', 'forbidden'],
    },
    {
      ...caller, method: 'post', path: '/pool/tokens/:token/keep-alive', operationId: 'keepPoolTokenAlive', summary: 'Keep a token (and its holder\'s lease) alive',
      params: poolTokenParam,
      responses: { 200: token },
      problems: [...guards.caller, 'validation_failed', 'not_found', 'forbidden'],
    },
    {
      ...caller, method: 'get', path: '/pool/tokens/:token', operationId: 'getPoolToken', summary: 'A token\'s state now (its holder or an admin)',
      description: 'Anyone else is 403, and a free token is for admins only.',
      params: poolTokenParam,
      responses: { 200: token },
      problems: [...guards.caller, 'validation_failed', 'not_found', 'forbidden'],
    },
    {
      ...admin, method: 'delete', path: '/pool/tokens/:token', operationId: 'deletePoolToken', summary: 'Delete a token (admin)',
      params: poolTokenParam,
      responses: { 204: { description: 'Deleted.' } },
      problems: [...guards.admin, 'validation_failed', 'not_found'],
    },
    {
      ...caller, method: 'get', path: '/pool/stats', operationId: 'getPoolStats', summary: 'How many tokens are free and leased',
      responses: { 200: { description: 'The counts.', schema: poolStatsSchema } },
      problems: guards.caller,
    },
  ];
}
