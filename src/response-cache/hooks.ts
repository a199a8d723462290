// The response cache on an HTTP app: a request to a cached route whose key is held is answered from
// the cache before its handler runs; otherwise the bytes its handler sends (a JSON body, or a whole
// event stream written to the raw response) are captured and kept if the handler called the
// response replayable and it completed with a 200.
//
// Only replayable responses are ever stored, so a lookup needs no knowledge of the request: a key
// is held only if the same body was found replayable before (validation is a function of the body).
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestKey, type CachedResponse, type ResponseCache } from './store.js';

/** Request header: `false` (any case) answers without the cache and keeps nothing. */
export const USE_CACHE_HEADER = 'x-use-cache';
/** Response header of cached routes: `hit` or `miss`. */
const CACHE_STATUS_HEADER = 'x-cache';

export interface ResponseCacheHooks {
  cache: ResponseCache;
  /** `METHOD /path` of the routes whose responses are cached. */
  routes: ReadonlySet<string>;
  /** Part of every key: the same body asks another thing of another model. */
  model: string;
  /** Whether the handler found the response a function of the request alone, and completed it. */
  isReplayable(request: FastifyRequest): boolean;
  /** The stored headers as a hit sends them, `elapsedMs` after the request arrived. */
  replayHeaders?(headers: Record<string, string>, elapsedMs: number): Record<string, string>;
  /** The stored body as a hit sends it (with the stored headers): a response's own ids, say. */
  replayBody?(body: Buffer, headers: Record<string, string>): Buffer;
  onHit?(): void;
  onMiss?(): void;
}

/** Headers that describe the body; transport, CORS and the cache's own header are the request's. */
function describesBody(name: string): boolean {
  return name === 'content-type' || name === 'cache-control' || (name.startsWith('x-') && name !== CACHE_STATUS_HEADER);
}

function bodyHeaders(response: ServerResponse): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.getHeaders())) {
    if (value !== undefined && describesBody(name)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

export function bypassesCache(value: string | string[] | undefined): boolean {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.some((v) => v.trim().toLowerCase() === 'false');
}

/**
 * Records what is written to `response` (strings and bytes, whatever the writer), up to `limit`
 * bytes; beyond it the capture is dropped and `bytes()` gives undefined.
 */
function capture(response: ServerResponse, limit: number): { bytes(): Buffer | undefined } {
  let chunks: Buffer[] | undefined = [];
  let length = 0;
  const take = (chunk: unknown, encoding: unknown) => {
    if (chunks === undefined || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array);
    length += bytes.length;
    if (length > limit) chunks = undefined;
    else chunks.push(bytes);
  };
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  response.write = ((...args: unknown[]) => {
    take(args[0], args[1]);
    return write(...args);
  }) as ServerResponse['write'];
  response.end = ((...args: unknown[]) => {
    take(args[0], args[1]);
    return end(...args);
  }) as ServerResponse['end'];
  return { bytes: () => (chunks === undefined ? undefined : Buffer.concat(chunks)) };
}

function replay(reply: FastifyReply, stored: CachedResponse, options: ResponseCacheHooks): FastifyReply {
  const headers = options.replayHeaders ? options.replayHeaders(stored.headers, reply.elapsedTime) : stored.headers;
  const body = options.replayBody ? options.replayBody(stored.body, stored.headers) : stored.body;
  return reply.code(200).headers(headers).header(CACHE_STATUS_HEADER, 'hit').send(body);
}

/**
 * Adds the cache's hooks to `app`. A preHandler: it runs after the onRequest hooks (the API key,
 * the shutdown drain) and after the body was parsed, so that a hit is never answered to a request
 * those would refuse, and malformed bodies get their usual errors.
 */
export function registerResponseCache(app: FastifyInstance, options: ResponseCacheHooks): void {
  const { cache } = options;
  app.addHook('preHandler', async (request, reply) => {
    const route = `${request.method} ${request.routeOptions.url}`;
    if (!options.routes.has(route)) return;
    const bypass = bypassesCache(request.headers[USE_CACHE_HEADER]);
    const key = bypass ? undefined : requestKey(route, options.model, request.body);
    const stored = key === undefined ? undefined : cache.get(key);
    if (stored) {
      options.onHit?.();
      return replay(reply, stored, options);
    }
    options.onMiss?.();
    // On the raw response, so that a stream's head (written by the handler, bypassing the reply's
    // headers) carries it too.
    reply.raw.setHeader(CACHE_STATUS_HEADER, 'miss');
    if (key === undefined) return;
    const captured = capture(reply.raw, cache.maxEntryBytes);
    // 'finish': the whole response was handed to the connection; a client that left mid-way never gets there.
    reply.raw.once('finish', () => {
      if (reply.raw.statusCode !== 200 || !options.isReplayable(request)) return;
      const body = captured.bytes();
      if (body === undefined) return;
      cache.set(key, { headers: bodyHeaders(reply.raw), body });
    });
  });
}
