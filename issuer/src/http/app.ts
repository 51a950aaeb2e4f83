/**
 * The issuer's Express application: shared middleware, the routers, then problem+json errors.
 */
import express, { type Express, type RequestHandler, type Router } from 'express';
import {
  baseMiddleware,
  errorHandler,
  jsonBody,
  methodNotAllowedHandler,
  notFoundHandler,
  type Logger,
  type TrustProxy,
} from '@akm/common';
import type { IssuerMetrics } from '../metrics.js';
import { storageFailures, type StorageFailureTest } from './storage-failures.js';

/** Options of {@link createIssuerApp}. */
export interface IssuerAppOptions {
  logger: Logger;
  metrics: IssuerMetrics;
  routers: Router[];
  /** Which errors are failures of the store (answered 503 `storage_failed`). */
  isStorageFailure: StorageFailureTest;
  /** Express's `trust proxy`: which proxies' `X-Forwarded-For` gives `req.ip`. */
  trustProxy: TrustProxy;
}

/**
 * Nothing the issuer's API answers may be kept by a browser or a proxy: answers carry API keys,
 * sign-in tokens, users and key metadata. Routes that serve public, cacheable content (the JWKS,
 * the console's static files) say so themselves.
 */
const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** Creates the issuer's Express app. */
export function createIssuerApp(options: IssuerAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', options.trustProxy);
  app.use(...baseMiddleware(options.logger), options.metrics.observe, noStore, jsonBody('64kb'));
  for (const router of options.routers) app.use(router);
  app.use(methodNotAllowedHandler(app), notFoundHandler);
  app.use(storageFailures(options.logger, options.isStorageFailure));
  app.use(errorHandler(options.logger));
  return app;
}
