/**
 * The verifier service's Express app: shared base middleware, the protected demo routes,
 * operations routes, and the one error shape.
 */
import express, { type Express } from 'express';
import { baseMiddleware, errorHandler, jsonBody, methodNotAllowedHandler, metricsAccess, notFoundHandler, type Logger, type TrustProxy } from '@akm/common';
import type { Verifier } from '../create-verifier.js';
import { keyInfoRoute } from './key-info-route.js';
import { verifierOpenApi } from './openapi.js';
import { VERIFIER_VERSION } from './package-version.js';
import { opsRoutes } from './ops-routes.js';
import { priceRoute } from './price-route.js';

/** Options of {@link createVerifierApp}. */
export interface VerifierAppOptions {
  verifier: Verifier;
  logger: Logger;
  /** The clock, milliseconds since epoch (the verifier's). */
  now?: () => number;
  /** Express's `trust proxy`. Default false (the socket's address is the client's). */
  trustProxy?: TrustProxy;
  /** Bearer token `/metrics` requires; unset serves clients on this host only. */
  metricsToken?: string | undefined;
}

/** Creates the Express app of the verifier service (not listening). */
export function createVerifierApp(options: VerifierAppOptions): Express {
  const { verifier, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(...baseMiddleware(logger));
  // Routes go straight on the app: one route table, no nested router walked per request.
  priceRoute(app, verifier.protect({ roles: ['user', 'admin'], scopes: ['prices:read'] }));
  keyInfoRoute(app, verifier.protect({ consume: false }), options.now ?? Date.now);
  opsRoutes(app, verifier, verifier.protect({ roles: ['admin'] }), metricsAccess({ token: options.metricsToken }));
  app.all('/auth', verifier.forwardAuth());
  // Envoy's ext_authz appends the request's path and query to its path_prefix.
  app.all('/auth/*path', verifier.forwardAuth({ query: false }));
  const openapi = verifierOpenApi(VERIFIER_VERSION);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.post('/v1/verify', jsonBody('16kb'), verifier.verifyEndpoint());
  app.use(methodNotAllowedHandler(app), notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
