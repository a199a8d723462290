// The OpenAPI 3.1 document of the server, generated from the schemas the routes validate requests
// with and type their responses by, with the limits and defaults this server really runs with.
import { z } from 'zod';
import { CompatGenerateRequestSchema, GenerateRequestSchema, GenerateResponseJsonSchema, StreamResponseJsonSchema } from './native.js';
import {
  ChatCompletionChunkJsonSchema,
  ChatCompletionJsonSchema,
  ChatRequestSchema,
  CompletionJsonSchema,
  CompletionRequestSchema,
  ModelJsonSchema,
  ModelListJsonSchema,
} from './openai.js';
import {
  ChatTokenizeResponseSchema,
  LoadingErrorSchema,
  UnhealthySchema,
  NativeAuthErrorSchema,
  NativeErrorSchema,
  OpenAiErrorSchema,
  ServerInfoSchema,
  TokenizeResponseSchema,
} from './operations.js';
import { SeedSchema } from './seed.js';
import { LoadLoraAdapterRequestSchema, LoraAdapterResponseSchema, UnloadLoraAdapterRequestSchema } from './lora.js';
import { WatermarkDetectRequestSchema, WatermarkDetectResponseSchema } from './watermark.js';

interface DocumentLimits {
  maxInputTokens: number;
  maxTotalTokens: number;
  maxStopSequences: number;
  maxBestOf: number;
  maxTopNTokens: number;
  loraAdapters?: readonly string[];
}

const U64_MAX = '18446744073709551615';

const COMPONENTS = {
  GenerateRequest: GenerateRequestSchema,
  CompatGenerateRequest: CompatGenerateRequestSchema,
  GenerateResponse: GenerateResponseJsonSchema,
  StreamResponse: StreamResponseJsonSchema,
  ChatRequest: ChatRequestSchema,
  ChatCompletion: ChatCompletionJsonSchema,
  ChatCompletionChunk: ChatCompletionChunkJsonSchema,
  CompletionRequest: CompletionRequestSchema,
  Completion: CompletionJsonSchema,
  ModelList: ModelListJsonSchema,
  Model: ModelJsonSchema,
  Info: ServerInfoSchema,
  TokenizeResponse: TokenizeResponseSchema,
  ChatTokenizeResponse: ChatTokenizeResponseSchema,
  WatermarkDetectRequest: WatermarkDetectRequestSchema,
  WatermarkDetectResponse: WatermarkDetectResponseSchema,
  ErrorResponse: NativeErrorSchema,
  AuthenticationError: NativeAuthErrorSchema,
  OpenAiErrorResponse: OpenAiErrorSchema,
  LoadingError: LoadingErrorSchema,
  LoadLoraAdapterRequest: LoadLoraAdapterRequestSchema,
  UnloadLoraAdapterRequest: UnloadLoraAdapterRequestSchema,
  LoraAdapterResponse: LoraAdapterResponseSchema,
  Unhealthy: UnhealthySchema,
} satisfies Record<string, z.ZodType>;

type ComponentName = keyof typeof COMPONENTS;
type JsonSchema = Record<string, unknown>;

/** Seeds and other u64s are written as plain integers; zod has no JSON Schema of a bigint or a transform. */
function isIntegerUnion(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def as { type: string; options?: z.core.$ZodType[] };
  return def.type === 'union' && (def.options ?? []).every((option) => ['number', 'bigint'].includes(option._zod.def.type));
}

function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string };
      if (def.type === 'bigint' || isIntegerUnion(ctx.zodSchema) || ctx.zodSchema === SeedSchema) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, { type: 'integer', minimum: 0 });
      } else if (
        ctx.jsonSchema.type === 'integer' &&
        ctx.jsonSchema.minimum === Number.MIN_SAFE_INTEGER &&
        ctx.jsonSchema.maximum === Number.MAX_SAFE_INTEGER
      ) {
        // zod's bounds of any safe integer say nothing to a reader.
        delete ctx.jsonSchema.minimum;
        delete ctx.jsonSchema.maximum;
      }
    },
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas as Record<string, JsonSchema>;
}

/** Adds a description (and a default) to a property of an object schema, and to the schema under `parameters`. */
function describe(
  schema: JsonSchema,
  notes: Record<string, { description: string; default?: unknown; maximum?: number; maxItems?: number }>,
): void {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return;
  for (const [name, note] of Object.entries(notes)) {
    const property = properties[name];
    if (!property) continue;
    property.description = note.description;
    if (note.default !== undefined) property.default = note.default;
    if (note.maximum !== undefined) withinAnyOf(property, (s) => s.type === 'integer' && (s.maximum = note.maximum));
    if (note.maxItems !== undefined) withinAnyOf(property, (s) => s.type === 'array' && (s.maxItems = note.maxItems));
  }
}

function withinAnyOf(schema: JsonSchema, apply: (s: JsonSchema) => unknown): void {
  apply(schema);
  for (const option of (schema.anyOf as JsonSchema[] | undefined) ?? []) apply(option);
}

/** What the generation parameters mean here, with this server's real defaults and limits. */
function documentParameters(schemas: Record<string, JsonSchema>, limits: DocumentLimits): void {
  const adapters = limits.loraAdapters ?? [];
  const adapterNote = adapters.length > 0 ? `one of ${adapters.join(', ')}; absent: the base model` : 'none are loaded (--lora-adapters)';
  for (const name of ['GenerateRequest', 'CompatGenerateRequest'] as const) {
    const request = schemas[name];
    describe(request, {
      inputs: { description: 'The prompt, tokenized with the special tokens (BOS) the model adds' },
      parameters: { description: "When absent, do_sample defaults to true (TGI's rule); when present, to false" },
      stream: { description: 'POST / only: answer as /generate_stream does' },
    });
    const parameters = (request.properties as Record<string, JsonSchema>).parameters;
    describe(parameters, {
      best_of: {
        description: `Sequences to sample, the best (by mean logprob) returned; needs sampling and no seed; not with streaming. At most ${limits.maxBestOf}`,
        default: 1,
        maximum: limits.maxBestOf,
      },
      temperature: { description: 'Softmax temperature, > 0; a value other than 1 turns sampling on', default: 1 },
      repetition_penalty: { description: 'Divides the logits of tokens already seen (prompt and output), > 0', default: 1 },
      frequency_penalty: { description: "Subtracts penalty x count / length from seen tokens' logits, in [-2, 2]", default: 0 },
      top_k: { description: 'Keep the k most likely tokens, > 0; turns sampling on', default: 0 },
      top_p: { description: 'Nucleus sampling, 0 < p < 1; turns sampling on', default: 1 },
      typical_p: { description: 'Locally typical sampling, 0 < p < 1; turns sampling on', default: 1 },
      do_sample: { description: 'Sample instead of choosing the most likely token', default: false },
      max_new_tokens: {
        description: `Tokens to generate, >= 1. Default: up to max_total_tokens (${limits.maxTotalTokens}) minus the prompt's tokens`,
        maximum: limits.maxTotalTokens,
      },
      return_full_text: { description: 'Prepend the prompt to generated_text', default: false },
      stop: {
        description: `Stop sequences: generation ends when the text ends with one (it is kept). At most ${limits.maxStopSequences}`,
        default: [],
        maxItems: limits.maxStopSequences,
      },
      truncate: { description: `Keep only the last n prompt tokens, 1 <= n <= ${limits.maxInputTokens}`, maximum: limits.maxInputTokens },
      watermark: { description: 'Watermark the output (green-list watermark, see POST /watermark/detect)', default: false },
      details: { description: 'Return details: finish reason, tokens with logprobs, seed', default: false },
      decoder_input_details: {
        description: 'Return the prompt tokens with their logprobs in details.prefill; not with streaming',
        default: false,
      },
      seed: { description: `Seed of the sampler, an integer in [0, ${U64_MAX}]; random when absent` },
      top_n_tokens: {
        description: `Return the n most likely tokens at each step, at most ${limits.maxTopNTokens}`,
        default: 0,
        maximum: limits.maxTopNTokens,
      },
      grammar: {
        description:
          'Constrain the output: {"type": "json", "value": <JSON Schema>}, {"type": "regex", "value": "<regex>"} or {"type": "json_schema", "value": {"schema": <JSON Schema>}}',
      },
      adapter_id: { description: `LoRA adapter to generate with: ${adapterNote}` },
    });
  }
  const openAiNotes = {
    model: { description: `A LoRA adapter's id selects it (${adapterNote}); any other name is the served model. Responses report it` },
    adapter_id: { description: `Extension: the LoRA adapter, ${adapterNote}` },
    max_tokens: {
      description: `Tokens to generate, >= 1. Default: up to max_total_tokens (${limits.maxTotalTokens}) minus the prompt's tokens`,
    },
    temperature: { description: "0 means greedy; OpenAI's range [0, 2]", default: 1 },
    top_p: { description: 'Nucleus sampling, (0, 1]', default: 1 },
    n: { description: 'Independent choices', default: 1 },
    stop: { description: 'Up to 4 stop strings, cut from the returned text' },
    seed: { description: `Seed of the sampler, an integer in [0, ${U64_MAX}]; choice i uses seed + i` },
    presence_penalty: { description: "OpenAI's additive penalty on tokens already generated, [-2, 2]", default: 0 },
    frequency_penalty: { description: "OpenAI's additive penalty per occurrence, [-2, 2]", default: 0 },
    logit_bias: { description: "Token id -> bias added to its logit, [-100, 100]; a list of floats (TGI's form) is accepted and ignored" },
    top_k: { description: 'Extension: keep the k most likely tokens' },
    repetition_penalty: { description: "Extension: TGI's multiplicative repetition penalty, > 0" },
    typical_p: { description: 'Extension: locally typical sampling, 0 < p < 1' },
    response_format: {
      description:
        '{"type": "json_object"}, {"type": "json_schema", "json_schema": {"schema": ...}}, or TGI\'s {"type": "json", "value": ...} / {"type": "regex", "value": ...}',
    },
  };
  describe(schemas.ChatRequest, {
    ...openAiNotes,
    messages: { description: "The conversation, rendered with the model's chat template" },
    max_completion_tokens: { description: 'Same as max_tokens' },
    logprobs: { description: "Return the chosen tokens' logprobs", default: false },
    top_logprobs: { description: "Most likely tokens per position, 0 to the server's --max-top-n-tokens (needs logprobs)" },
    tools: { description: "Functions the model may call; the call is parsed from the model's own tool-call format" },
    tool_choice: {
      description: '"auto", "none", "required" or {"type": "function", "function": {"name": ...}} ("type" may be left out)',
      default: 'auto',
    },
    chat_template_kwargs: { description: 'Extra variables for the chat template, e.g. {"enable_thinking": false}' },
  });
  describe(schemas.CompletionRequest, {
    ...openAiNotes,
    prompt: { description: 'A prompt or a list of prompts (one choice set each)' },
    logprobs: { description: 'Return the logprobs of the chosen and the n most likely tokens' },
    echo: { description: 'Prepend the prompt to the text', default: false },
    best_of: { description: 'Only 1 (or absent) is accepted' },
    grammar: { description: "Extension: TGI's grammar parameter" },
  });
}

type Method = 'get' | 'post';

interface RouteDoc {
  path: string;
  method: Method;
  operationId: string;
  summary: string;
  family: 'native' | 'openai' | 'none';
  request?: ComponentName;
  /** Content type -> response component (or an inline schema). */
  ok: Record<string, ComponentName | JsonSchema>;
  okDescription?: string;
  errors?: number[];
  auth?: 'api' | 'metrics';
  /** Answered from the response cache when deterministic. */
  cached?: boolean;
  /** The `{name}` part of the path, when it has one. */
  pathParameter?: { name: string; description: string };
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

const GENERATION_ERRORS = [400, 401, 413, 415, 422, 424, 429, 503];

const ROUTES: RouteDoc[] = [
  {
    path: '/',
    method: 'post',
    cached: true,
    operationId: 'compat_generate',
    summary: 'Generate tokens; streamed (as /generate_stream) when "stream" is true',
    family: 'native',
    request: 'CompatGenerateRequest',
    ok: { 'application/json': 'GenerateResponse', 'text/event-stream': 'StreamResponse' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/generate',
    method: 'post',
    cached: true,
    operationId: 'generate',
    summary: 'Generate tokens',
    family: 'native',
    request: 'GenerateRequest',
    ok: { 'application/json': 'GenerateResponse' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/generate_stream',
    method: 'post',
    cached: true,
    operationId: 'generate_stream',
    summary: 'Generate a stream of token events (server-sent events, one JSON object per data: line)',
    family: 'native',
    request: 'GenerateRequest',
    ok: { 'text/event-stream': 'StreamResponse' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/v1/chat/completions',
    method: 'post',
    cached: true,
    operationId: 'chat_completions',
    summary: 'OpenAI chat completion; streamed as chat.completion.chunk events ending with data: [DONE] when "stream" is true',
    family: 'openai',
    request: 'ChatRequest',
    ok: { 'application/json': 'ChatCompletion', 'text/event-stream': 'ChatCompletionChunk' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/v1/completions',
    method: 'post',
    cached: true,
    operationId: 'completions',
    summary: 'OpenAI (legacy) text completion; streamed when "stream" is true',
    family: 'openai',
    request: 'CompletionRequest',
    ok: { 'application/json': 'Completion', 'text/event-stream': 'Completion' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/v1/models',
    method: 'get',
    operationId: 'openai_get_model_info',
    summary: "The served model, in OpenAI's model list",
    family: 'openai',
    ok: { 'application/json': 'ModelList' },
  },
  {
    path: '/v1/models/{model}',
    method: 'get',
    operationId: 'openai_retrieve_model',
    summary: 'One model of the list (the served model or a LoRA adapter); 404 model_not_found for another id',
    family: 'openai',
    ok: { 'application/json': 'Model' },
    errors: [404],
    pathParameter: { name: 'model', description: 'The model id, as /v1/models lists it (a hub id keeps its slash)' },
  },
  {
    path: '/tokenize',
    method: 'post',
    operationId: 'tokenize',
    summary: 'Tokenize inputs: each token with its id, text and UTF-8 byte span',
    family: 'native',
    request: 'GenerateRequest',
    ok: { 'application/json': 'TokenizeResponse' },
    errors: [400, 401, 413, 415, 422],
    auth: 'api',
  },
  {
    path: '/chat_tokenize',
    method: 'post',
    operationId: 'chat_tokenize',
    summary: 'Render a chat request with the chat template and tokenize the prompt',
    family: 'native',
    request: 'ChatRequest',
    ok: { 'application/json': 'ChatTokenizeResponse' },
    errors: [400, 401, 413, 415, 422],
    auth: 'api',
  },
  {
    path: '/invocations',
    method: 'post',
    cached: true,
    operationId: 'sagemaker_compatibility',
    summary: 'SageMaker: a body with "inputs" is served as POST /, with "messages" as chat completions, with "prompt" as completions',
    family: 'native',
    request: 'CompatGenerateRequest',
    ok: { 'application/json': 'GenerateResponse', 'text/event-stream': 'StreamResponse' },
    errors: GENERATION_ERRORS,
    auth: 'api',
  },
  {
    path: '/health',
    method: 'get',
    operationId: 'health',
    summary: 'Health: 200 with an empty body when a decode works, 503 otherwise',
    family: 'native',
    ok: {},
    okDescription: 'Healthy (empty body)',
    errors: [503],
  },
  {
    path: '/info',
    method: 'get',
    operationId: 'get_model_info',
    summary: "The model and the server's limits",
    family: 'native',
    ok: { 'application/json': 'Info' },
  },
  {
    path: '/metrics',
    method: 'get',
    operationId: 'metrics',
    summary: 'Prometheus metrics (text exposition format)',
    family: 'native',
    ok: { 'text/plain': { type: 'string' } },
    errors: [401],
    auth: 'metrics',
  },
  {
    path: '/v1/load_lora_adapter',
    method: 'post',
    operationId: 'load_lora_adapter',
    summary: 'Load a GGUF LoRA adapter from a file on the server (with --allow-runtime-lora)',
    family: 'openai',
    request: 'LoadLoraAdapterRequest',
    ok: { 'application/json': 'LoraAdapterResponse' },
    errors: [400, 401, 403, 413, 415, 422],
    auth: 'api',
  },
  {
    path: '/v1/unload_lora_adapter',
    method: 'post',
    operationId: 'unload_lora_adapter',
    summary: 'Unload a LoRA adapter no request uses (with --allow-runtime-lora)',
    family: 'openai',
    request: 'UnloadLoraAdapterRequest',
    ok: { 'application/json': 'LoraAdapterResponse' },
    errors: [400, 401, 403, 404, 409, 413, 415, 422],
    auth: 'api',
  },
  {
    path: '/watermark/detect',
    method: 'post',
    operationId: 'watermark_detect',
    summary: "Extension: test a text or token ids for this server's watermark (z-score, p-value, green fraction)",
    family: 'native',
    request: 'WatermarkDetectRequest',
    ok: { 'application/json': 'WatermarkDetectResponse' },
    errors: [400, 401, 413, 415, 422],
    auth: 'api',
  },
];

const STATUS_TEXT: Record<number, string> = {
  400: 'The body is not JSON',
  401: 'Missing or wrong API key',
  403: 'Turned off on this server',
  404: 'Not found',
  409: 'In use',
  413: 'The body is larger than --payload-limit',
  415: 'The body is not application/json',
  422: 'Input validation error',
  424: 'Generation failed',
  429: 'Model is overloaded (--max-concurrent-requests)',
  503: 'Unhealthy, loading (with estimated_time) or shutting down',
};

const WAIT_FOR_MODEL = {
  name: 'x-wait-for-model',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['true', 'false'] },
  description: 'While the model loads, hold the request and serve it once ready (true) instead of answering 503 with the estimated time',
};

const USE_CACHE = {
  name: 'x-use-cache',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['true', 'false'], default: 'true' },
  description: 'false: generate anew and keep nothing in the response cache',
};

const CACHE_HEADER = {
  'x-cache': {
    description: 'hit or miss: whether the response cache answered (absent when the cache is off)',
    schema: { type: 'string', enum: ['hit', 'miss'] },
  },
};

function operation(route: RouteDoc): JsonSchema {
  const errorSchema = ref(route.family === 'openai' ? 'OpenAiErrorResponse' : 'ErrorResponse');
  const content = Object.fromEntries(
    Object.entries(route.ok).map(([type, schema]) => [type, { schema: typeof schema === 'string' ? ref(schema) : schema }]),
  );
  const responses: Record<string, JsonSchema> = {
    '200': {
      description: route.okDescription ?? 'OK',
      ...(route.cached ? { headers: CACHE_HEADER } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    },
  };
  for (const status of route.errors ?? []) {
    const schema =
      status === 401 && route.family !== 'openai'
        ? ref('AuthenticationError')
        : status !== 503
          ? errorSchema
          : route.path === '/health'
            ? ref('Unhealthy')
            : { anyOf: [ref('LoadingError'), errorSchema] };
    // The OpenAI generation routes also answer a prompt too long for the context with OpenAI's 400.
    const prompted = route.path === '/v1/chat/completions' || route.path === '/v1/completions';
    const description =
      status === 400 && prompted
        ? `${STATUS_TEXT[status]}, or the prompt and max_tokens exceed the context (code context_length_exceeded)`
        : STATUS_TEXT[status];
    responses[String(status)] = { description, content: { 'application/json': { schema } } };
  }
  return {
    tags: ['Text Generation Inference'],
    operationId: route.operationId,
    summary: route.summary,
    parameters: [
      ...(route.pathParameter
        ? [
            {
              name: route.pathParameter.name,
              in: 'path',
              required: true,
              schema: { type: 'string' },
              description: route.pathParameter.description,
            },
          ]
        : []),
      ...(route.cached ? [WAIT_FOR_MODEL, USE_CACHE] : [WAIT_FOR_MODEL]),
    ],
    ...(route.request ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.request) } } } } : {}),
    responses,
    ...(route.auth === 'api' ? { security: [{ apiKey: [] }, {}] } : route.auth === 'metrics' ? { security: [{ metricsKey: [] }, {}] } : {}),
  };
}

export interface DocumentOptions {
  version: string;
  limits: DocumentLimits;
}

/** The OpenAPI 3.1 document; every route of the server is a path of it. */
export function openApiDocument(options: DocumentOptions): JsonSchema {
  const schemas = componentSchemas();
  documentParameters(schemas, options.limits);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Text Generation Inference',
      description:
        "tgi-node: Hugging Face Text Generation Inference's API and the OpenAI API, on llama.cpp. Defaults and limits are this server's.",
      version: options.version,
      license: { name: 'Apache 2.0', identifier: 'Apache-2.0' },
    },
    tags: [{ name: 'Text Generation Inference', description: 'Hugging Face Text Generation Inference API' }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: '--api-key, when the server has one' },
        metricsKey: { type: 'http', scheme: 'bearer', description: '--metrics-api-key, when the server has one' },
      },
    },
  };
}
