/**
 * The ceiling the verifier is compared with: a bare Express 5 + helmet app that answers
 * `GET /price?symbol=BTC` with the same JSON as the verifier service, and nothing else (no
 * key check, no rate limit, no request log). Run as its own process: `BARE_PORT=… tsx bench/bare-app.ts`;
 * `BARE_HELMET=0` leaves helmet out (the ablation's floor).
 */
import express from 'express';
import helmet from 'helmet';

const TOKENS = new Map(
  [
    { symbol: 'BTC', name: 'Bitcoin', priceUsd: 67250.12, change24hPct: 1.8 },
    { symbol: 'ETH', name: 'Ether', priceUsd: 3480.55, change24hPct: -0.6 },
  ].map((t) => [t.symbol, t]),
);

const app = express();
app.disable('x-powered-by');
app.set('query parser', 'simple');
if (process.env.BARE_HELMET !== '0') app.use(helmet());
app.get('/price', (req, res) => {
  const token = TOKENS.get(String(req.query.symbol ?? '').toUpperCase());
  if (!token) return void res.status(404).json({ code: 'not_found' });
  res.json(token);
});
app.get('/readyz', (_req, res) => void res.json({ status: 'ready' }));

const server = app.listen(Number(process.env.BARE_PORT ?? 0), '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
