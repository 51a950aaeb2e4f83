/**
 * `akm pool …`: the token pool. Generating and deleting need an admin sign-in; the rest any
 * sign-in (or an API key in `AKM_TOKEN`).
 */
import { Command } from 'commander';
import { contextOf, positiveInt } from '../context.js';
import { answerOf } from '../issuer-api.js';
import { printOutcome, printRecord, printRows } from '../output.js';

const tokenPath = (token: string) => ({ params: { path: { token } } });

/** The `pool` command group. */
export function poolCommand(): Command {
  const pool = new Command('pool').description('lease tokens from the token pool');

  pool
    .command('generate')
    .description('add new tokens to the pool (admin; at most POOL_MAX_TOKENS in all)')
    .argument('<count>', 'how many tokens', positiveInt)
    .action(async (count: number, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      const { tokens } = await answerOf(api.POST('/pool/tokens', { body: { count } }));
      if (json) printRecord({ tokens }, json);
      else printRows(tokens.map((token) => ({ token })), ['token'], json);
    });

  pool
    .command('assign')
    .description('lease a random free token to yourself (404 pool_empty when none is free)')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.POST('/pool/assign')), json);
    });

  pool
    .command('show <token>')
    .description("a token's state now (its holder or an admin)")
    .action(async (token: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.GET('/pool/tokens/{token}', tokenPath(token))), json);
    });

  pool
    .command('keep-alive <token>')
    .description('keep a token from being purged; on a token you hold, also extend the lease')
    .action(async (token: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.POST('/pool/tokens/{token}/keep-alive', tokenPath(token))), json);
    });

  pool
    .command('unblock <token>')
    .description('give a token back to the pool (its holder or an admin)')
    .action(async (token: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.POST('/pool/tokens/{token}/unblock', tokenPath(token))), json);
    });

  pool
    .command('delete <token>')
    .description('remove a token, assigned or not (admin)')
    .action(async (token: string, _o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      await answerOf(api.DELETE('/pool/tokens/{token}', tokenPath(token)));
      printOutcome({ token, deleted: true }, `deleted ${token}`, json);
    });

  pool
    .command('stats')
    .description('how many tokens are free and assigned')
    .action(async (_o: unknown, cmd: Command) => {
      const { api, json } = contextOf(cmd);
      printRecord(await answerOf(api.GET('/pool/stats')), json);
    });

  return pool;
}
