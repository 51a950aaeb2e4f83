/**
 * `GET /price?symbol=BTC`: token information for a handful of symbols (static data: the route
 * exists to show a protected API, not to be a market feed).
 */
import type { IRouter, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, parseInput } from '@akm/common';
import type { tokenInfoSchema } from './service-schemas.js';

/** What the service knows about a token. */
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

const TOKENS: ReadonlyMap<string, TokenInfo> = new Map(
  [
    { symbol: 'BTC', name: 'Bitcoin', priceUsd: 67250.12, change24hPct: 1.8 },
    { symbol: 'ETH', name: 'Ether', priceUsd: 3480.55, change24hPct: -0.6 },
    { symbol: 'SOL', name: 'Solana', priceUsd: 172.3, change24hPct: 3.2 },
    { symbol: 'ADA', name: 'Cardano', priceUsd: 0.45, change24hPct: 0.4 },
    { symbol: 'DOT', name: 'Polkadot', priceUsd: 7.12, change24hPct: -1.1 },
  ].map((t) => [t.symbol, t]),
);

const SYMBOL = /^[A-Za-z0-9]{1,10}$/;

/** Query of `GET /price`. */
export const priceQuery = z.object({
  symbol: z
    .string({ error: 'symbol is required' })
    .regex(SYMBOL, 'symbol must be 1 to 10 letters or digits')
    .transform((s) => s.toUpperCase()),
});

/**
 * The symbol of a `GET /price` query: a well-formed one straight away; anything else through
 * {@link priceQuery}, whose error is the answer (the schema stays the one source of the rules).
 */
function symbolOf(query: unknown): string {
  const symbol = (query as { symbol?: unknown }).symbol;
  if (typeof symbol === 'string' && SYMBOL.test(symbol)) return symbol.toUpperCase();
  return parseInput(priceQuery, query, 'query').symbol;
}

/** Looks a token up by symbol (case-insensitive). */
export function findToken(symbol: string): TokenInfo | undefined {
  return TOKENS.get(symbol.toUpperCase());
}

/**
 * Adds the price route, behind `guard`, to `router` (the app itself: one route table, rather
 * than a nested router every request walks).
 */
export function priceRoute(router: IRouter, guard: RequestHandler): void {
  router.get('/price', guard, (req, res) => {
    const symbol = symbolOf(req.query);
    const token = findToken(symbol);
    if (!token) throw new AppError('not_found', `unknown symbol ${symbol}`);
    res.json(token);
  });
}
