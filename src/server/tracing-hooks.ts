// Traces of the generation routes (with --otlp-endpoint): a span per request, opened when it
// arrives (child of the caller's `traceparent`) and ended when its response is; its handler runs in
// the request's trace, so that the generator adds the engine's spans to it. Without a tracer none
// of these hooks exist, and the generator's calls find no trace.
import { context, propagation, ROOT_CONTEXT, type Tracer } from '@opentelemetry/api';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION,
} from '../tracing/attributes.js';
import { RequestTrace } from '../tracing/request-trace.js';
import { BodyShapeError } from '../api/parse.js';
import { ApiError } from './errors.js';
import { responseModel, type OpenAiIdentity } from './openai-common.js';

/** The traced routes: their span names (TGI's) and operations (absent: the body's shape tells). */
const TRACED_ROUTES: Record<string, { name: string; operation?: string }> = {
  'POST /generate': { name: 'generate', operation: GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION },
  'POST /generate_stream': { name: 'generate_stream', operation: GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION },
  'POST /': { name: 'compat_generate', operation: GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION },
  'POST /v1/chat/completions': { name: 'chat_completions', operation: GEN_AI_OPERATION_NAME_VALUE_CHAT },
  'POST /v1/completions': { name: 'completions', operation: GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION },
  'POST /invocations': { name: 'sagemaker_compatibility' },
};

function field(body: unknown, key: string): unknown {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>)[key] : undefined;
}

/** What /invocations does with a body: chat for `messages`, unless `inputs` (checked first) sends it to POST /. */
function invocationOperation(body: unknown): string {
  const chat = field(body, 'inputs') === undefined && field(body, 'messages') !== undefined;
  return chat ? GEN_AI_OPERATION_NAME_VALUE_CHAT : GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION;
}

/** The error_type the body will name, else the framework's code. */
function errorType(error: FastifyError): string {
  if (error instanceof ApiError) return error.errorType;
  if (error instanceof BodyShapeError) return 'validation';
  return error.code ?? error.name;
}

export function registerRequestTracing(app: FastifyInstance, tracer: Tracer, identity: OpenAiIdentity): void {
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  app.addHook('onRequest', (request, reply, done) => {
    const route = TRACED_ROUTES[`${request.method} ${request.routeOptions.url}`];
    if (route) {
      const attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: request.method,
        [ATTR_HTTP_ROUTE]: request.routeOptions.url,
        ...(route.operation ? { [ATTR_GEN_AI_OPERATION_NAME]: route.operation } : {}),
      };
      const trace = new RequestTrace(tracer, { name: route.name, parent: propagation.extract(ROOT_CONTEXT, request.headers), attributes });
      traces.set(request, trace);
      const response = reply.raw;
      response.once('close', () =>
        trace.end({ statusCode: response.headersSent ? response.statusCode : undefined, clientGone: !response.writableFinished }),
      );
    }
    done();
  });

  // After the body is parsed, right before the handler: what the body says, and the handler runs in the trace.
  app.addHook('preHandler', (request, _reply, done) => {
    const trace = traces.get(request);
    if (!trace) return done();
    const route = TRACED_ROUTES[`${request.method} ${request.routeOptions.url}`];
    const model = field(request.body, 'model');
    const named = typeof model === 'string' && model.length > 0 ? model : undefined;
    trace.describe({
      operation: route.operation ?? invocationOperation(request.body),
      requestModel: named ?? identity.modelId,
      responseModel: responseModel(identity, named),
    });
    context.with(trace.context, done);
  });

  app.addHook('onError', (request, _reply, error: FastifyError, done) => {
    traces.get(request)?.fail(error.message, errorType(error));
    done();
  });
}
