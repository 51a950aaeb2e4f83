/**
 * `akm whoami`: who the sign-in token is for, its role and when it expires, for a user's
 * sign-in and for the admin token `akm admin-token` mints, whose subject is no user.
 */
import { Command } from 'commander';
import { decodeJwt } from 'jose';
import { LOCAL_ADMIN_SUB } from '../../domain/session-tokens.js';
import type { IssuerClient } from '@akm/client';
import { CliError } from '../cli-error.js';
import { answerOf } from '../issuer-api.js';
import { contextOf } from '../context.js';
import { printRecord } from '../output.js';

/** The claims whoami shows, read without verification: the issuer verifies the token. */
function claimsOf(token: string | undefined): { sub?: string; role?: unknown; exp?: number } | undefined {
  if (!token) return undefined;
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

const isoOf = (seconds: number | undefined) => (seconds === undefined ? undefined : new Date(seconds * 1000).toISOString());

/** What whoami prints for the caller holding `token`. */
export async function describeCaller(api: IssuerClient, token: string | undefined): Promise<Record<string, unknown>> {
  const claims = claimsOf(token);
  const tokenExpiresAt = isoOf(claims?.exp);
  try {
    const me = await answerOf(api.GET('/me'));
    return { ...me, tokenExpiresAt };
  } catch (err) {
    // GET /me checks the token before it looks the subject up, so not_found means the issuer
    // accepted a token whose subject is no user: show the claims it accepted instead.
    if (!(err instanceof CliError && err.code === 'not_found') || !claims?.sub) throw err;
    return {
      subject: claims.sub,
      role: claims.role,
      tokenExpiresAt,
      note:
        claims.sub === LOCAL_ADMIN_SUB
          ? 'admin token minted from the data directory (akm admin-token), not a user'
          : 'the issuer has no user of this name',
    };
  }
}

/** The `whoami` command. */
export function whoamiCommand(): Command {
  return new Command('whoami')
    .description('show who the sign-in token is for, its role and expiry')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json, token } = contextOf(cmd);
      printRecord(await describeCaller(api, token), json);
    });
}
