// Requests no route takes: 404 for an unknown path, 405 (with Allow) for a known path and another
// method. TGI answers both with an empty body; here each gets the JSON error body of its route
// family: OpenAI's under /v1/, TGI's {"error", "error_type"} elsewhere.
import type { FastifyInstance } from 'fastify';
import { errorBody, type ErrorFamily } from './errors.js';

const familyOfPath = (path: string): ErrorFamily => (path.startsWith('/v1/') ? 'openai' : 'native');

export function notFoundBody(family: ErrorFamily, status: 404 | 405, message: string): unknown {
  const errorType = status === 404 ? 'not_found' : 'method_not_allowed';
  return errorBody(family, status, message, errorType);
}

/** Registers the answer; call before the routes, whose paths and methods it collects. */
export function registerNotFound(app: FastifyInstance): void {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = methods.get(route.url) ?? new Set<string>();
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) set.add(method);
    methods.set(route.url, set);
  });
  /** The methods of the route whose path this is (a wildcard route `/a/*` takes every path below `/a/`). */
  const allowed = (path: string): Set<string> | undefined => {
    const exact = methods.get(path);
    if (exact) return exact;
    for (const [url, set] of methods) if (url.endsWith('/*') && path.startsWith(url.slice(0, -1))) return set;
    return undefined;
  };
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const family = familyOfPath(path);
    const known = request.method === 'OPTIONS' ? undefined : allowed(path);
    if (known) {
      const allow = [...known].sort().join(', ');
      return reply
        .code(405)
        .header('allow', allow)
        .send(notFoundBody(family, 405, `Method ${request.method} is not allowed on ${path} (allowed: ${allow})`));
    }
    return reply.code(404).send(notFoundBody(family, 404, `No route ${request.method} ${path}: GET /docs lists the routes of this server`));
  });
}
