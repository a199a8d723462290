// The HTTP application: body parsing and limits, error bodies per route family, CORS, API key,
// request tracing, and the route groups.
import Fastify, {
  LogController,
  type FastifyServerFactory,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import cors from '@fastify/cors';
import type { Logger } from 'pino';
import type { Tracer } from '@opentelemetry/api';
import { BodyShapeError } from '../api/parse.js';
import { checkedJsonBody, stringifyJson } from '../api/json-body.js';
import { registerAuth } from './auth.js';
import { registerNotFound } from './not-found.js';
import { ApiError, errorBody, type ErrorFamily } from './errors.js';
import type { Generator } from './generator.js';
import type { ChatPrompter } from '../chat/prompt.js';
import type { OpenAiIdentity } from './openai-common.js';
import { registerChatTokenizeRoute } from './routes/chat-tokenize.js';
import { registerInvocationsRoute } from './routes/invocations.js';
import { registerNativeRoutes } from './routes/native.js';
import { registerOpenAiRoutes } from './routes/openai.js';
import { registerOperationRoutes, type ServerInfo } from './routes/operations.js';
import { registerWatermarkRoute } from './routes/watermark.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerLoraAdminRoutes } from './routes/lora-admin.js';
import { openApiDocument } from '../api/openapi.js';
import { registerRequestTracing } from './tracing-hooks.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import { ResponseCache } from '../response-cache/store.js';
import { registerResponseCache, USE_CACHE_HEADER } from '../response-cache/hooks.js';
import { WAIT_FOR_MODEL_HEADER } from './front-door.js';
import { replayedGenerationHeaders } from './generator.js';
import { withFreshIdentity } from './replayed-identity.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which error body the route answers with. */
    family?: ErrorFamily;
    /** For a route serving several families: which one a parsed body belongs to. */
    familyOf?: (body: unknown) => ErrorFamily | undefined;
  }
  interface FastifyRequest {
    /** Set by a route that serves several families (/invocations) once it knows the body's. */
    errorFamily?: ErrorFamily;
    /** Set by a generation route once its whole response was sent and depends on the body alone. */
    replayable?: boolean;
  }
}

export interface AppOptions {
  /** Answer on this server (already listening) instead of one Fastify creates. */
  serverFactory?: FastifyServerFactory;
  generator: Generator;
  info: ServerInfo;
  logger: Logger;
  payloadLimit: number;
  corsAllowOrigins: string[];
  /** Keys of the routes that work on request content (see auth.ts); none: open. */
  apiKeys?: string[];
  /** Keys of /metrics; none: open. */
  metricsApiKeys?: string[];
  computeType: string;
  compatReturnFullText: boolean;
  prompter: ChatPrompter;
  /** The model id OpenAI responses report and the system fingerprint. */
  servedModel: string;
  /** --watermark-gamma and --watermark-delta, for the watermark detector. */
  watermark: WatermarkSettings;
  /** Traces the generation routes when given (--otlp-endpoint). */
  tracer?: Tracer;
  /** --allow-runtime-lora, and the model's GGUF the adapters must fit. */
  runtimeLora?: { enabled: boolean; modelPath: string };
  /** When the model file was made, in Unix seconds (/v1/models' `created`); none: now. */
  modelCreated?: number;
  /** Bytes of the response cache (--response-cache-size); 0 or none: no cache. */
  responseCacheBytes?: number;
}

/** The generation routes whose deterministic responses the response cache keeps. */
const CACHED_ROUTES = new Set([
  'POST /',
  'POST /generate',
  'POST /generate_stream',
  'POST /v1/chat/completions',
  'POST /v1/completions',
  'POST /invocations',
]);

const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i;

function statusOf(error: FastifyError): number {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 413;
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return 415;
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError)
    return 400;
  return error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
}

function messageOf(error: FastifyError, status: number): string {
  if (status === 413) return 'Failed to buffer the request body: length limit exceeded';
  if (status === 415) return 'Expected request with `Content-Type: application/json`';
  if (status === 400) return `Failed to parse the request body as JSON: ${error.message}`;
  return error.message;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.payloadLimit,
    return503OnClosing: false,
    forceCloseConnections: false,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });

  const identity: OpenAiIdentity = {
    modelId: options.servedModel,
    systemFingerprint: `${options.info.version}-${options.info.docker_label ?? 'native'}`,
    computeType: options.computeType,
  };
  // First, so that requests refused by the hooks below (401, 415) are traced too.
  if (options.tracer) registerRequestTracing(app, options.tracer, identity);

  app.setReplySerializer((payload) => stringifyJson(payload));
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const failure = error as FastifyError;
      failure.statusCode = 400;
      failure.code = text.trim().length === 0 ? 'FST_ERR_CTP_EMPTY_JSON_BODY' : 'FST_ERR_CTP_INVALID_JSON_BODY';
      if (text.trim().length === 0) failure.message = 'EOF while parsing a value at line 1 column 0';
      return done(failure, undefined);
    }
    try {
      done(null, checkedJsonBody(text, value));
    } catch (error) {
      if (!(error instanceof BodyShapeError)) throw error;
      // A route whose error body depends on the body's shape (/invocations) still gets to choose it.
      request.errorFamily = request.routeOptions.config.familyOf?.(value);
      done(error, undefined);
    }
  });

  await app.register(cors, {
    origin: options.corsAllowOrigins.length > 0 ? options.corsAllowOrigins : '*',
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', USE_CACHE_HEADER, WAIT_FOR_MODEL_HEADER],
  });
  registerAuth(app, { apiKeys: options.apiKeys ?? [], metricsApiKeys: options.metricsApiKeys ?? [] });
  if (options.responseCacheBytes) {
    const metrics = options.generator.metrics;
    const cache = new ResponseCache(options.responseCacheBytes);
    metrics.responseCacheBytes = () => cache.bytes;
    registerResponseCache(app, {
      cache,
      routes: CACHED_ROUTES,
      model: options.servedModel,
      isReplayable: (request) => request.replayable === true,
      replayHeaders: replayedGenerationHeaders,
      replayBody: withFreshIdentity,
      onHit: () => metrics.cacheHit(),
      onMiss: () => metrics.responseCacheMisses.inc(),
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (request.method === 'POST' && config.family && request.headers['content-type'] === undefined) {
      const status = 415;
      return reply
        .code(status)
        .send(errorBody(config.family, status, 'Expected request with `Content-Type: application/json`', 'validation'));
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const family = request.errorFamily ?? request.routeOptions.config.family;
    if (error instanceof ApiError) return reply.code(error.status).send(error.bodyFor(family ?? 'native'));
    if (error instanceof BodyShapeError) return reply.code(422).send(errorBody(family, 422, error.message, 'validation', error.param));
    const status = statusOf(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message = status >= 500 ? 'Internal server error' : messageOf(error, status);
    return reply.code(status).send(errorBody(family, status, message, status >= 500 ? 'internal' : 'validation'));
  });

  registerNotFound(app);

  const native = registerNativeRoutes(app, {
    generator: options.generator,
    computeType: options.computeType,
    compatReturnFullText: options.compatReturnFullText,
  });
  const openai = registerOpenAiRoutes(
    app,
    options.generator,
    options.prompter,
    identity,
    options.modelCreated ?? Math.floor(Date.now() / 1000),
  );
  registerInvocationsRoute(app, native, openai);
  registerChatTokenizeRoute(app, options.generator);
  registerOperationRoutes(app, options.generator, options.info);
  registerWatermarkRoute(app, options.generator, options.watermark);
  registerLoraAdminRoutes(app, options.generator, options.runtimeLora ?? { enabled: false, modelPath: '' });
  registerDocsRoutes(app, openApiDocument({ version: options.info.version, limits: options.generator.limits }));
  return app;
}
