// Which routes need which API key, and the 401 each route family answers without one.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiKeys, bearerToken } from './api-keys.js';
import { openAiErrorBody, type ErrorFamily } from './errors.js';

/** Who may call a route: anyone, a holder of an --api-key key, or of a --metrics-api-key key. */
export type RouteAccess = 'open' | 'generation' | 'metrics';

/**
 * Routes that do no work on request content. Every other route needs an --api-key key when one is
 * set, so a new route is protected unless it is added here.
 */
const OPEN_ROUTES = new Set([
  'GET /',
  'GET /health',
  'GET /ping',
  'GET /info',
  'GET /v1/models',
  'GET /v1/models/*',
  'GET /docs',
  'GET /docs/:asset',
  'GET /api-doc/openapi.json',
]);
/** Open unless --metrics-api-key is set; then only its keys open them. */
const METRICS_ROUTES = new Set(['GET /metrics']);

export function routeAccess(method: string, url: string | undefined): RouteAccess {
  // Preflights carry no credentials, and a path without a route answers 404 or 405 whatever is sent.
  if (url === undefined || method === 'OPTIONS') return 'open';
  const route = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  if (OPEN_ROUTES.has(route)) return 'open';
  if (METRICS_ROUTES.has(route)) return 'metrics';
  return 'generation';
}

export interface AuthOptions {
  apiKeys: readonly string[];
  metricsApiKeys: readonly string[];
}

type Refusal = 'missing' | 'invalid';

const FLAG: Record<Exclude<RouteAccess, 'open'>, string> = { generation: '--api-key', metrics: '--metrics-api-key' };

function refusalMessage(refusal: Refusal, access: Exclude<RouteAccess, 'open'>): string {
  const what = refusal === 'missing' ? 'Missing API key' : 'Invalid API key';
  return `${what}: this route needs the header \`Authorization: Bearer <key>\` with one of the keys the server was started with (${FLAG[access]})`;
}

function refuse(reply: FastifyReply, family: ErrorFamily, refusal: Refusal, access: Exclude<RouteAccess, 'open'>): FastifyReply {
  const message = refusalMessage(refusal, access);
  // Native: `error` alone. TGI's clients (huggingface_hub) turn any body with an `error_type` into a
  // generation error that has lost its status; without one they raise the HTTP error, status 401.
  const body = family === 'openai' ? openAiErrorBody(401, message, `${refusal}_api_key`) : { error: message };
  // RFC 6750: a request without credentials gets the bare challenge, a wrong token its error code.
  return reply
    .code(401)
    .header('www-authenticate', refusal === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"')
    .send(body);
}

/** Refuses requests to protected routes that do not carry one of the keys of their kind. */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const keys = { generation: new ApiKeys(options.apiKeys), metrics: new ApiKeys(options.metricsApiKeys) };
  app.addHook('onRequest', async (request, reply) => {
    const access = routeAccess(request.method, request.routeOptions.url);
    if (access === 'open' || keys[access].size === 0) return;
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined && keys[access].accepts(token)) return;
    // /invocations answers in the native family: its body, which would pick another, is not read
    // before the key is checked.
    return refuse(reply, request.routeOptions.config.family ?? 'native', token === undefined ? 'missing' : 'invalid', access);
  });
}
