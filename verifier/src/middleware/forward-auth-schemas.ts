/**
 * Shapes of forward auth (`/auth`): the query it validates and the body of its 200. The routes
 * validate with these and the OpenAPI document is built from them.
 */
import { z } from 'zod';
import { ROLES, SCOPE_PATTERN } from '@akm/common';

/** Query of `/auth`: `roles=a,b` restricts the roles allowed (any role when omitted). */
export const forwardAuthQuery = z.strictObject({
  roles: z
    .string()
    .regex(new RegExp(`^(${ROLES.join('|')})(,(${ROLES.join('|')}))*$`), `a comma-separated list of ${ROLES.join(', ')}`)
    .transform((s) => s.split(',') as (typeof ROLES)[number][])
    .optional()
    .meta({ description: `Roles allowed, comma-separated (${ROLES.join(', ')}); any role when omitted.`, example: 'admin' }),
  scopes: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.string().regex(SCOPE_PATTERN, 'a comma-separated list of scopes (letters, digits and . _ : / -)')).max(32))
    .optional()
    .meta({ description: 'Scopes the key must all have, comma-separated; 403 `insufficient_scope` otherwise. None when omitted.', example: 'prices:read' }),
});

/** Body of a 200 from `/auth` (the same facts as its `X-Akm-*` headers). */
export const forwardAuthAnswer = z
  .object({
    keyId: z.string().meta({ description: 'The key id (`jti`).' }),
    sub: z.string().meta({ description: "The key's owner." }),
    role: z.enum(ROLES),
    scopes: z.array(z.string()).meta({ description: "The key's scopes (also in `X-Akm-Scope`, space-delimited)." }),
  })
  .meta({ id: 'ForwardAuthAnswer' });

/** A 200 from `/auth`. */
export type ForwardAuthAnswer = z.infer<typeof forwardAuthAnswer>;
