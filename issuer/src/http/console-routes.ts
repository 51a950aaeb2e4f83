/**
 * The console at `/console/`: the built single-page app (`issuer/dist/console`, made by
 * `npm run build`) under a strict Content-Security-Policy of its own: scripts, styles and API
 * calls from this origin only, nothing inline, no frames, no plugins, Trusted Types required.
 * Hashed assets are cached for good; the page itself is revalidated on every load.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import helmet from 'helmet';
import { AppError, type Logger } from '@akm/common';

/** Where `npm run build` puts the console (the same path from `src/http` and `dist/http`). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** The console's Content-Security-Policy. */
const consolePolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
    requireTrustedTypesFor: ["'script'"],
  },
});

/** Creates the router serving the console from `dir`. */
export function createConsoleRoutes(options: { logger: Logger; dir?: string }): Router {
  const dir = options.dir ?? CONSOLE_DIR;
  const router = Router();
  const built = existsSync(join(dir, 'index.html'));
  if (!built) options.logger.warn({ dir }, 'the console is not built (run npm run build): /console answers 404');

  // The page's asset paths are relative: it must be addressed with its trailing slash (this
  // route also matches `/console/`, which goes on to the files).
  router.get('/console', (req, res, next) => (req.path.endsWith('/') ? next() : res.redirect(301, 'console/')));
  router.use('/console', consolePolicy);
  router.use(
    '/console',
    express.static(dir, {
      index: 'index.html',
      redirect: false,
      dotfiles: 'ignore',
      setHeaders(res, path) {
        res.setHeader('Cache-Control', path.includes(`${join('console', 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
  router.use('/console', (req, _res, next) => {
    if (!built) return next(new AppError('not_found', 'the console is not built: run npm run build'));
    next(new AppError('not_found', `no console file ${req.path}`));
  });
  return router;
}
