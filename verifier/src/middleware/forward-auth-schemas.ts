/**
 * Shapes of forward auth (`/auth`): the query it validates and the body of its 200. The routes
 * validate with these and the OpenAPI document is built from them.
 */
import { z } from 'zod';
import { ROLES } from '@akm/common';

/** Query of `/auth`: `roles=a,b` restricts the roles allowed (any role when omitted). */
export const forwardAuthQuery = z.strictObject({
  roles: z
    .string()
    .regex(new RegExp(`^(${ROLES.join('|')})(,(${ROLES.join('|')}))*$`), `a comma-separated list of ${ROLES.join(', ')}`)
    .transform((s) => s.split(',') as (typeof ROLES)[number][])
    .optional()
    .meta({ description: `Roles allowed, comma-separated (${ROLES.join(', ')}); any role when omitted.`, example: 'admin' }),
});

/** Body of a 200 from `/auth` (the same facts as its `X-Akm-*` headers). */
export const forwardAuthAnswer = z
  .object({
    keyId: z.string().meta({ description: 'The key id (`jti`).' }),
    sub: z.string().meta({ description: "The key's owner." }),
    role: z.enum(ROLES),
  })
  .meta({ id: 'ForwardAuthAnswer' });

/** A 200 from `/auth`. */
export type ForwardAuthAnswer = z.infer<typeof forwardAuthAnswer>;
