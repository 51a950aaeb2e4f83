/**
 * 405 Method Not Allowed for a known path asked with a method it does not serve (RFC 9110
 * §15.5.6), with the `Allow` header listing those it does; Express answers such requests like
 * an unknown path (404) by itself.
 */
import type { Express, RequestHandler } from 'express';
import { sendProblem } from './http.js';

/** What this reads of Express 5's router (`router` 2.x): each layer's matcher, route, sub-router. */
interface RouterLayer {
  match(path: string): false | { path: string };
  route?: { methods: Record<string, boolean | undefined> };
  handle: { stack?: RouterLayer[] };
}

/** Adds to `into` the methods of the routes under `stack` that match `path`. */
function collectMethods(stack: readonly RouterLayer[], path: string, into: Set<string>): void {
  for (const layer of stack) {
    const match = layer.match(path);
    if (!match) continue;
    if (layer.route) {
      for (const [method, served] of Object.entries(layer.route.methods)) {
        if (served && method !== '_all') into.add(method.toUpperCase());
      }
    } else if (layer.handle.stack) {
      // A mounted router: it sees the path without the part its mount point matched.
      collectMethods(layer.handle.stack, path.slice(match.path.length) || '/', into);
    }
  }
}

/**
 * Put after every route of `app` and before the 404: a request whose path some route serves
 * with other methods is answered 405 `method_not_allowed` with `Allow`; any other goes on.
 */
export function methodNotAllowedHandler(app: Express): RequestHandler {
  return (req, res, next) => {
    const methods = new Set<string>();
    collectMethods((app.router as unknown as { stack: RouterLayer[] }).stack, req.path, methods);
    if (methods.size === 0 || methods.has(req.method)) return next();
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    sendProblem(res, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allow}`, { headers: { Allow: allow } });
  };
}
