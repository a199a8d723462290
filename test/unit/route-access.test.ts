// Every route the app serves, with the key it needs: a new route fails here until its access is
// stated, and one that works on request content is protected unless listed as open in auth.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { inProcessApp } from '../helpers/in-process-app.js';
import { routeAccess, type RouteAccess } from '../../src/server/auth.js';

const EXPECTED: Record<string, RouteAccess> = {
  'POST /': 'generation',
  'POST /generate': 'generation',
  'POST /generate_stream': 'generation',
  'POST /v1/chat/completions': 'generation',
  'POST /v1/completions': 'generation',
  'POST /invocations': 'generation',
  'POST /tokenize': 'generation',
  'POST /chat_tokenize': 'generation',
  'POST /watermark/detect': 'generation',
  'POST /v1/load_lora_adapter': 'generation',
  'POST /v1/unload_lora_adapter': 'generation',
  'GET /': 'open',
  'HEAD /': 'open',
  'GET /health': 'open',
  'HEAD /health': 'open',
  'GET /ping': 'open',
  'HEAD /ping': 'open',
  'GET /info': 'open',
  'HEAD /info': 'open',
  'GET /v1/models': 'open',
  'HEAD /v1/models': 'open',
  'GET /v1/models/*': 'open',
  'HEAD /v1/models/*': 'open',
  'GET /docs': 'open',
  'HEAD /docs': 'open',
  'GET /docs/:asset': 'open',
  'HEAD /docs/:asset': 'open',
  'GET /api-doc/openapi.json': 'open',
  'HEAD /api-doc/openapi.json': 'open',
  'GET /metrics': 'metrics',
  'HEAD /metrics': 'metrics',
  'OPTIONS *': 'open',
};

/** "METHOD /path" of every route, read from Fastify's route tree. */
function servedRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!node) continue;
    const depth = node[1].length / 4;
    segments.length = depth;
    // Fastify prints a wildcard route `/a/*` beside a route `/a` as a child `*` of `/a`.
    segments.push(node[2] === '*' && depth > 0 && !segments.join('').endsWith('/') ? '/*' : node[2]);
    for (const method of node[3]?.split(', ') ?? []) routes.push(`${method} ${segments.join('')}`);
  }
  return routes;
}

describe('route access', () => {
  it('every served route needs the key stated for it', async () => {
    const { app } = await inProcessApp();
    await app.ready();
    const served = servedRoutes(app);
    const access = Object.fromEntries(
      served.map((route) => {
        const [method, url] = route.split(' ');
        return [route, routeAccess(method, url)];
      }),
    );
    assert.deepEqual(access, EXPECTED);
    await app.close();
  });

  it('a route not listed as open needs the key, whatever its method', () => {
    assert.equal(routeAccess('POST', '/v1/embeddings'), 'generation');
    assert.equal(routeAccess('GET', '/v1/something-new'), 'generation');
    assert.equal(routeAccess('GET', '/docs'), 'open');
  });

  it('preflights and paths without a route need no key', () => {
    assert.equal(routeAccess('OPTIONS', '/v1/chat/completions'), 'open');
    assert.equal(routeAccess('POST', undefined), 'open');
  });
});
