// The launcher's flags: TGI's names and environment variables, plus llama.cpp engine settings.
// One table (FLAGS) gives each flag's syntax, environment variable, type, default and help; the
// options' type is derived from it and commander's result is parsed by it. Variables read without
// a flag are its environment-only section (ENVIRONMENT). The README's table is checked against both.
// Flags win over environment variables; booleans accept `--flag`, `--flag false`, or FLAG=true|false.
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { PROJECTOR_PREFERENCE, QUANTIZATION_PREFERENCE } from '../hub/choose-gguf.js';
import { DEFAULT_MODEL_ID } from '../hub/default-model.js';
import { HUB_VARIABLES, type HubVariables } from '../hub/environment.js';
import { parseLogLevel } from '../logging/logger.js';

export function parseInteger(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    return n;
  };
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

function parseBoolean(value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${value}"`);
}

function collect(value: string, previous: unknown): string[] {
  return [
    ...((previous as string[] | undefined) ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function oneOf(values: readonly string[]) {
  return (value: string): string => {
    if (!values.includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}, got "${value}"`);
    return value;
  };
}

/** What the launcher knows of a flag: its syntax, environment variable and help text. */
interface Described {
  flags: string;
  env: string;
  help: string;
}

/** A flag of the table: how commander reads it, and the type of its value (a zod schema). */
export interface Flag<S extends z.ZodType = z.ZodType> extends Described {
  /** Parses the text commander is given (flag argument or environment variable). */
  parse?: (value: string, previous: unknown) => unknown;
  /** Booleans: `--flag` alone means true. */
  preset?: unknown;
  default?: unknown;
  schema: S;
}

function text(spec: Described & { default: string }): Flag<z.ZodString>;
function text(spec: Described): Flag<z.ZodOptional<z.ZodString>>;
function text(spec: Described & { default?: string }): Flag {
  return { ...spec, schema: spec.default === undefined ? z.string().optional() : z.string() };
}

function integer(min: number, spec: Described & { default: number }): Flag<z.ZodNumber>;
function integer(min: number, spec: Described): Flag<z.ZodOptional<z.ZodNumber>>;
function integer(min: number, spec: Described & { default?: number }): Flag {
  const schema = z.number().int().min(min);
  return { ...spec, parse: parseInteger(min), schema: spec.default === undefined ? schema.optional() : schema };
}

function number(spec: Described & { default: number }): Flag<z.ZodNumber>;
function number(spec: Described): Flag<z.ZodOptional<z.ZodNumber>>;
function number(spec: Described & { default?: number }): Flag {
  return { ...spec, parse: parseNumber, schema: spec.default === undefined ? z.number().optional() : z.number() };
}

function choice<const V extends readonly [string, ...string[]]>(
  values: V,
  spec: Described & { default: V[number] },
): Flag<z.ZodEnum<{ [K in V[number]]: K }>>;
function choice<const V extends readonly [string, ...string[]]>(
  values: V,
  spec: Described,
): Flag<z.ZodOptional<z.ZodEnum<{ [K in V[number]]: K }>>>;
function choice(values: readonly [string, ...string[]], spec: Described & { default?: string }): Flag {
  const schema = z.enum(values);
  return { ...spec, parse: oneOf(values), schema: spec.default === undefined ? schema.optional() : schema };
}

/** `--flag`, `--flag false`, or FLAG=true|false; off by default. */
function boolean(spec: Described): Flag<z.ZodBoolean> {
  return { ...spec, parse: parseBoolean, preset: true, default: false, schema: z.boolean() };
}

/** Repeatable and comma-separated. */
function list(spec: Described): Flag<z.ZodOptional<z.ZodArray<z.ZodString>>> {
  return { ...spec, parse: collect, schema: z.array(z.string()).optional() };
}

/**
 * The flags tgi-node implements, keyed by their value's name (commander's camelCase of the long
 * flag): the one source of the flags, their environment variables, types, defaults and help.
 */
export const FLAGS = {
  modelId: text({
    flags: '--model-id <id>',
    env: 'MODEL_ID',
    help: `Model to serve: a local .gguf file (the first part of a split GGUF), a directory holding GGUFs, or a Hugging Face hub repository id (org/name), downloaded into the Hugging Face cache. Default: ${DEFAULT_MODEL_ID}.`,
  }),
  revision: text({ flags: '--revision <rev>', env: 'REVISION', help: 'Hub branch, tag or commit of --model-id.', default: 'main' }),
  ggufFile: text({
    flags: '--gguf-file <name>',
    env: 'GGUF_FILE',
    help: `GGUF file of the repository or directory to serve. Default: the first of ${QUANTIZATION_PREFERENCE.join(', ')} found, else the smallest.`,
  }),
  mmproj: text({
    flags: '--mmproj <path>',
    env: 'MMPROJ',
    help: `Vision projector to serve the model with: a local mmproj GGUF (llama.cpp's clip format, llama-server's flag). Default: the mmproj*.gguf of the hub repository or directory of --model-id (the first of ${PROJECTOR_PREFERENCE.join(', ')} found in a file name, else the smallest; one in the model's folder first), downloaded with the model; none for a model given as a single .gguf file.`,
  }),
  noMmproj: boolean({
    flags: '--no-mmproj [bool]',
    env: 'NO_MMPROJ',
    help: 'Serve the model without a vision projector, even when its repository or directory holds one (nothing is downloaded for it); images then get the text-only 422. Not with --mmproj.',
  }),
  huggingfaceHubCache: text({
    flags: '--huggingface-hub-cache <dir>',
    env: 'HUGGINGFACE_HUB_CACHE',
    help: 'Hugging Face hub cache folder. Default: HF_HUB_CACHE, else $HF_HOME/hub (~/.cache/huggingface/hub).',
  }),
  hostname: text({
    flags: '--hostname <addr>',
    env: 'HOSTNAME',
    help: 'Address to listen on: an IP address, or a name this machine resolves (a name that does not resolve stops the launcher). 0.0.0.0 is every interface; 127.0.0.1 keeps the server to this machine.',
    default: '0.0.0.0',
  }),
  port: integer(0, { flags: '-p, --port <port>', env: 'PORT', help: 'HTTP port.', default: 3000 }),
  prometheusPort: integer(0, {
    flags: '--prometheus-port <port>',
    env: 'PROMETHEUS_PORT',
    help: 'Also serve GET /metrics on this port (same hostname, same --metrics-api-key). Default: /metrics on the main port only.',
  }),
  loraAdapters: text({
    flags: '--lora-adapters <list>',
    env: 'LORA_ADAPTERS',
    help: 'LoRA adapters of the model, comma-separated: id=path for a local GGUF LoRA file, or id alone for a hub repository holding one (resolved and cached as --model-id). A request picks one with parameters.adapter_id, or on the OpenAI routes with model (or adapter_id); requests of different adapters run concurrently, taking turns by step.',
  }),
  allowRuntimeLora: boolean({
    flags: '--allow-runtime-lora [bool]',
    env: 'ALLOW_RUNTIME_LORA',
    help: "Serve POST /v1/load_lora_adapter and /v1/unload_lora_adapter (vLLM's routes; they need the --api-key): LoRA adapters from files on this machine loaded and unloaded while the server runs. Off by default: they read any path the server can.",
  }),
  maxConcurrentRequests: integer(1, {
    flags: '--max-concurrent-requests <n>',
    env: 'MAX_CONCURRENT_REQUESTS',
    help: 'Requests in flight (running + queued) before new ones get 429 "Model is overloaded".',
    default: 128,
  }),
  maxBestOf: integer(0, { flags: '--max-best-of <n>', env: 'MAX_BEST_OF', help: 'Largest best_of a request may ask for.', default: 2 }),
  maxStopSequences: integer(0, {
    flags: '--max-stop-sequences <n>',
    env: 'MAX_STOP_SEQUENCES',
    help: 'Most stop sequences per request.',
    default: 4,
  }),
  maxTopNTokens: integer(0, {
    flags: '--max-top-n-tokens <n>',
    env: 'MAX_TOP_N_TOKENS',
    help: 'Largest top_n_tokens a request may ask for.',
    default: 5,
  }),
  maxInputTokens: integer(1, {
    flags: '--max-input-tokens <n>',
    env: 'MAX_INPUT_TOKENS',
    help: 'Most prompt tokens per request. Default: max-total-tokens - 1.',
  }),
  maxInputLength: integer(1, { flags: '--max-input-length <n>', env: 'MAX_INPUT_LENGTH', help: 'Legacy alias of --max-input-tokens.' }),
  maxTotalTokens: integer(2, {
    flags: '--max-total-tokens <n>',
    env: 'MAX_TOTAL_TOKENS',
    help: "Most prompt + generated tokens per request. Default: the model's training context, at most 4096.",
  }),
  maxBatchPrefillTokens: integer(1, {
    flags: '--max-batch-prefill-tokens <n>',
    env: 'MAX_BATCH_PREFILL_TOKENS',
    help: 'Prompt tokens prefilled per engine step, across requests (chunked prefill). Smaller keeps streams smooth while prompts arrive.',
    default: 512,
  }),
  maxBatchTotalTokens: integer(1, {
    flags: '--max-batch-total-tokens <n>',
    env: 'MAX_BATCH_TOTAL_TOKENS',
    help: 'The KV pool the running requests share, in tokens (cells): a request reserves its prompt + max_new_tokens and waits until the pool holds it. Default: max-batch-size requests of 1,024 tokens (or of max-total-tokens, if shorter), within a quarter of free memory, and at least max-total-tokens.',
  }),
  ctxSize: integer(1, { flags: '--ctx-size <n>', env: 'CTX_SIZE', help: 'Alias of --max-batch-total-tokens.' }),
  maxBatchSize: integer(1, {
    flags: '--max-batch-size <n>',
    env: 'MAX_BATCH_SIZE',
    help: 'Most requests running at once (llama.cpp sequences, each with its own stream of the KV pool); more wait in the queue.',
    default: 64,
  }),
  chatTemplate: text({
    flags: '--chat-template <file>',
    env: 'CHAT_TEMPLATE',
    help: "Jinja chat template for /v1/chat/completions: a .jinja file or a chat_template.json. Default: the template of --tokenizer-config-path, else the GGUF's tokenizer.chat_template, else ChatML (with a warning).",
  }),
  tokenizerConfigPath: text({
    flags: '--tokenizer-config-path <path>',
    env: 'TOKENIZER_CONFIG_PATH',
    help: "A Hugging Face tokenizer_config.json whose chat_template, bos_token and eos_token to use instead of the GGUF's.",
  }),
  servedModelName: text({
    flags: '--served-model-name <name>',
    env: 'SERVED_MODEL_NAME',
    help: 'Model name that /v1/models lists and OpenAI responses report when a request names none. Default: the hub repository of --model-id, or the GGUF file name of a local model.',
  }),
  maxClientBatchSize: integer(1, {
    flags: '--max-client-batch-size <n>',
    env: 'MAX_CLIENT_BATCH_SIZE',
    help: 'Most prompts in one /v1/completions request.',
    default: 4,
  }),
  payloadLimit: integer(1, {
    flags: '--payload-limit <bytes>',
    env: 'PAYLOAD_LIMIT',
    help: 'Largest request body in bytes (413 above).',
    default: 2_000_000,
  }),
  maxImageFetchSize: integer(1, {
    flags: '--max-image-fetch-size <bytes>',
    env: 'MAX_IMAGE_FETCH_SIZE',
    help: "Largest image in bytes, fetched from a URL (the download stops there) or sent as a data URI. Default: 20 MiB (OpenAI's limit per image; TGI's is 1 GiB, but each image is held in memory while it is decoded).",
    default: 20 * 1024 * 1024,
  }),
  maxImagesPerRequest: integer(1, {
    flags: '--max-images-per-request <n>',
    env: 'MAX_IMAGES_PER_REQUEST',
    help: 'Most images in one request, over all its messages (or in the inputs of a native request).',
    default: 8,
  }),
  maxImagePixels: integer(1, {
    flags: '--max-image-pixels <n>',
    env: 'MAX_IMAGE_PIXELS',
    help: "Most pixels (width x height) of one decoded image, read from the image's header before it is decoded. Default: 16777216 (4096 x 4096; a 12-megapixel photo fits).",
    default: 4096 * 4096,
  }),
  imageFetchTimeout: integer(1, {
    flags: '--image-fetch-timeout <seconds>',
    env: 'IMAGE_FETCH_TIMEOUT',
    help: 'Seconds one image URL has to be fetched, redirects and body included.',
    default: 10,
  }),
  imageEncoders: integer(1, {
    flags: '--image-encoders <n>',
    env: 'IMAGE_ENCODERS',
    help: "Images encoded at once, each on a vision thread of its own (with its own copy of the projector), below the engine's priority. The prebuilt encoder computes an image on one thread: more encoders serve concurrent image chats sooner where cores are left over, but on 2 cores a second one slowed the running streams (inter-token p99 2.3x). Default: 1.",
    default: 1,
  }),
  allowPrivateImageUrls: boolean({
    flags: '--allow-private-image-urls [bool]',
    env: 'ALLOW_PRIVATE_IMAGE_URLS',
    help: 'Let image URLs reach loopback, private, link-local and other non-public addresses. Off by default, so that a public server cannot be used as a proxy into its own network.',
  }),
  otlpEndpoint: text({
    flags: '--otlp-endpoint <url>',
    env: 'OTLP_ENDPOINT',
    help: "Export OpenTelemetry traces of the generation requests to this OTLP/HTTP endpoint (JSON over HTTP; gRPC is not spoken, so give the collector's HTTP port, usually 4318). A URL without a path gets OTLP's /v1/traces appended (as for OTEL_EXPORTER_OTLP_ENDPOINT); one with a path is used as it is. An incoming W3C traceparent header becomes the parent of a request's span. Default: no tracing.",
  }),
  otlpServiceName: text({
    flags: '--otlp-service-name <name>',
    env: 'OTLP_SERVICE_NAME',
    help: 'The service.name of the exported traces (with --otlp-endpoint).',
    default: 'text-generation-inference.router',
  }),
  jsonOutput: boolean({
    flags: '--json-output [bool]',
    env: 'JSON_OUTPUT',
    help: 'Log one JSON object per line instead of human-readable lines.',
  }),
  corsAllowOrigin: list({
    flags: '--cors-allow-origin <origin>',
    env: 'CORS_ALLOW_ORIGIN',
    help: 'Allowed CORS origin; repeat or comma-separate. Default: any origin.',
  }),
  apiKey: list({
    flags: '--api-key <key>',
    env: 'API_KEY',
    help: 'Require "Authorization: Bearer <key>" on every route that works on request content (POST /, /generate, /generate_stream, /v1/chat/completions, /v1/completions, /tokenize, /chat_tokenize, /invocations, /watermark/detect, /v1/load_lora_adapter and /v1/unload_lora_adapter); /health, /ping, GET /, /info, /v1/models, /docs and /api-doc/openapi.json stay open, /metrics has --metrics-api-key. Repeat or comma-separate for several keys (put a key holding a comma in --api-key-file). Compared exactly; the scheme "Bearer" in any case.',
  }),
  apiKeyFile: text({
    flags: '--api-key-file <path>',
    env: 'API_KEY_FILE',
    help: 'File of API keys accepted besides the --api-key ones: one a line, blank lines and surrounding whitespace ignored. Keeps keys out of the process list. A missing or empty file stops the launcher.',
  }),
  metricsApiKey: list({
    flags: '--metrics-api-key <key>',
    env: 'METRICS_API_KEY',
    help: 'Require "Authorization: Bearer <key>" on /metrics with this key (the --api-key keys do not open it). Repeat or comma-separate for several. Default: /metrics is open.',
  }),
  responseCacheSize: integer(0, {
    flags: '--response-cache-size <MiB>',
    env: 'RESPONSE_CACHE_SIZE',
    help: 'Memory of the response cache in MiB; 0 disables it. Identical deterministic requests (greedy, or sampled with a seed the client gave; same route, body and model) to /, /generate, /generate_stream, /v1/chat/completions, /v1/completions and /invocations are answered from it, streamed or not, without generating again; the least recently used answers go first when it is full, and an answer larger than an eighth of it is not kept. Responses of these routes carry x-cache: hit or miss; a request with the header x-use-cache: false is answered without it and not kept. Sampled requests without a seed are never cached.',
    default: 64,
  }),
  watermarkGamma: number({
    flags: '--watermark-gamma <x>',
    env: 'WATERMARK_GAMMA',
    help: 'Fraction of the vocabulary in the watermark green list.',
    default: 0.5,
  }),
  watermarkDelta: number({
    flags: '--watermark-delta <x>',
    env: 'WATERMARK_DELTA',
    help: 'Logit bonus of green-list tokens when watermarking.',
    default: 2.0,
  }),
  disableGrammarSupport: boolean({
    flags: '--disable-grammar-support [bool]',
    env: 'DISABLE_GRAMMAR_SUPPORT',
    help: 'Reject every request that carries a grammar.',
  }),
  enablePrefillLogprobs: boolean({
    flags: '--enable-prefill-logprobs [bool]',
    env: 'ENABLE_PREFILL_LOGPROBS',
    help: 'Accepted for compatibility: prompt logprobs (decoder_input_details) are always available.',
  }),
  validationWorkers: integer(0, {
    flags: '--validation-workers <n>',
    env: 'VALIDATION_WORKERS',
    help: 'Accepted for compatibility; must be > 0; /info reports it, it has no other effect. Small inputs are tokenized on the HTTP thread; texts from 16 KiB and large chat requests are tokenized and templated on one preprocessing thread, and grammars compiled on a thread of their own.',
    default: 2,
  }),
  gracefulTerminationTimeout: integer(0, {
    flags: '--graceful-termination-timeout <s>',
    env: 'GRACEFUL_TERMINATION_TIMEOUT',
    help: 'Seconds to let running requests finish on SIGTERM/SIGINT; then they are stopped (streams get an error event), as a second signal does at once. Exit code 0 when all finished, 1 when some were stopped.',
    default: 90,
  }),
  waitingServedRatio: number({
    flags: '--waiting-served-ratio <x>',
    env: 'WAITING_SERVED_RATIO',
    help: 'Accepted for compatibility; no effect (chunked prefill admits requests at every step).',
  }),
  maxWaitingTokens: integer(0, {
    flags: '--max-waiting-tokens <n>',
    env: 'MAX_WAITING_TOKENS',
    help: 'Accepted for compatibility; no effect (chunked prefill admits requests at every step).',
  }),
  // Engine (llama.cpp) settings.
  threads: integer(1, { flags: '--threads <n>', env: 'N_THREADS', help: 'CPU threads for generation. Default: the number of CPUs.' }),
  threadsBatch: integer(1, {
    flags: '--threads-batch <n>',
    env: 'N_THREADS_BATCH',
    help: 'CPU threads for prompt processing. Default: --threads.',
  }),
  gpuLayers: integer(-1, {
    flags: '--gpu-layers <n>',
    env: 'N_GPU_LAYERS',
    help: 'Layers to offload to the GPU (-1: all) when a GPU build of llama.cpp is installed.',
    default: 0,
  }),
  flashAttn: choice(['on', 'off', 'auto'] as const, {
    flags: '--flash-attn <mode>',
    env: 'FLASH_ATTN',
    help: 'Flash attention: on, off or auto.',
    default: 'auto',
  }),
  ubatchSize: integer(1, {
    flags: '--ubatch-size <n>',
    env: 'UBATCH_SIZE',
    help: 'Physical batch size of llama.cpp (tokens per compute graph).',
    default: 512,
  }),
  kvCacheDtype: choice(['f16', 'bf16', 'f32', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'fp8_e4m3fn', 'fp8_e5m2'] as const, {
    flags: '--kv-cache-dtype <type>',
    env: 'KV_CACHE_DTYPE',
    help: 'KV cache type: f16 (default), bf16, q8_0, q4_0, q4_1, q5_0, q5_1, f32; fp8_e4m3fn and fp8_e5m2 map to q8_0.',
  }),
  mmap: boolean({
    flags: '--mmap [bool]',
    env: 'USE_MMAP',
    help: 'Memory-map the model file instead of reading it into memory: faster start and pages shared between processes, but 3-9% slower decoding on CPU (measured), so off by default.',
  }),
  disableMmap: boolean({
    flags: '--disable-mmap [bool]',
    env: 'DISABLE_MMAP',
    help: 'Read the model into memory (the default); overrides --mmap.',
  }),
  disablePrefixCaching: boolean({
    flags: '--disable-prefix-caching [bool]',
    env: 'DISABLE_PREFIX_CACHING',
    help: 'Always recompute prompts instead of reusing the KV cells of earlier or running requests that share a prefix.',
  }),
  useMlock: boolean({ flags: '--use-mlock [bool]', env: 'USE_MLOCK', help: 'Lock the model in RAM.' }),
} satisfies Record<string, Flag>;

type Shape = { [K in keyof typeof FLAGS]: (typeof FLAGS)[K]['schema'] };
const OPTIONS = z.object(Object.fromEntries(Object.entries(FLAGS).map(([name, flag]) => [name, flag.schema])) as Shape);

/** The flags' values, typed by the table, and the environment-only variables' (ENVIRONMENT below). */
export type Options = z.infer<typeof OPTIONS> & {
  /** LOG_LEVEL. */
  logLevel: string;
  /** False when LOG_COLORIZE=1: human-readable log lines stay plain even on a terminal. */
  logColors: boolean;
  /** COMPUTE_TYPE. */
  computeType?: string;
  /** TGI_NODE_LLAMA_PACKAGE. */
  llamaPackage?: string;
  /** The hub variables (HF_TOKEN, HF_HOME...), as set. */
  hub: HubVariables;
};

/** TGI flags that cannot apply to a single-node llama.cpp server: accepted, warned about, ignored. */
const NOT_APPLICABLE: { flags: string; env?: string; why: string }[] = [
  { flags: '--sharded [value]', env: 'SHARDED', why: 'sharding across GPUs is not available with llama.cpp' },
  { flags: '--num-shard <n>', env: 'NUM_SHARD', why: 'sharding across GPUs is not available with llama.cpp' },
  { flags: '--quantize <method>', env: 'QUANTIZE', why: 'GGUF files carry their own quantization' },
  { flags: '--speculate <n>', env: 'SPECULATE', why: 'speculative decoding is not implemented yet' },
  { flags: '--dtype <type>', env: 'DTYPE', why: 'GGUF files carry their own tensor types' },
  { flags: '--trust-remote-code [value]', env: 'TRUST_REMOTE_CODE', why: 'no model code is ever executed' },
  { flags: '--cuda-graphs <list>', env: 'CUDA_GRAPHS', why: 'CUDA graphs are managed by llama.cpp' },
  { flags: '--shard-uds-path <path>', env: 'SHARD_UDS_PATH', why: 'there are no shard processes' },
  { flags: '--master-addr <addr>', env: 'MASTER_ADDR', why: 'there is no distributed setup' },
  { flags: '--master-port <port>', env: 'MASTER_PORT', why: 'there is no distributed setup' },
  { flags: '--weights-cache-override <dir>', env: 'WEIGHTS_CACHE_OVERRIDE', why: 'give the model folder to --model-id instead' },
  { flags: '--disable-custom-kernels [value]', env: 'DISABLE_CUSTOM_KERNELS', why: "kernels are llama.cpp's" },
  { flags: '--cuda-memory-fraction <x>', env: 'CUDA_MEMORY_FRACTION', why: 'llama.cpp sizes GPU memory from --gpu-layers' },
  { flags: '--rope-scaling <type>', env: 'ROPE_SCALING', why: 'RoPE settings come from the GGUF metadata' },
  { flags: '--rope-factor <x>', env: 'ROPE_FACTOR', why: 'RoPE settings come from the GGUF metadata' },
  { flags: '--usage-stats <mode>', env: 'USAGE_STATS', why: 'tgi-node never sends usage statistics' },
  { flags: '--ngrok [value]', env: 'NGROK', why: 'tunnels are out of scope' },
  { flags: '--ngrok-authtoken <token>', env: 'NGROK_AUTHTOKEN', why: 'tunnels are out of scope' },
  { flags: '--ngrok-edge <edge>', env: 'NGROK_EDGE', why: 'tunnels are out of scope' },
];

/** The table's environment-only section: variables read besides the flags' own (those are shown with each flag). */
export const ENVIRONMENT: { name: string; help: string }[] = [
  {
    name: 'LOG_LEVEL',
    help: 'Log level: error, warn, info (default), debug or trace; TGI\'s form "info,text_generation=debug" reads as its first level.',
  },
  {
    name: 'HF_TOKEN',
    help: 'Hub token for gated or private repositories; also HUGGING_FACE_HUB_TOKEN, else the file HF_TOKEN_PATH (default $HF_HOME/token, written by huggingface-cli login).',
  },
  { name: 'HF_ENDPOINT', help: 'Hub URL. Default: https://huggingface.co.' },
  {
    name: 'HF_HUB_OFFLINE',
    help: 'Set to 1: no network; --model-id is loaded from the cache, or the launcher stops saying what is missing.',
  },
  { name: 'HF_HUB_CACHE', help: 'The hub cache folder (also HUGGINGFACE_HUB_CACHE or --huggingface-hub-cache). Default: $HF_HOME/hub.' },
  { name: 'HF_HOME', help: 'The Hugging Face folder. Default: $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.' },
  {
    name: 'TGI_NODE_LLAMA_PACKAGE',
    help: 'The npm package of llama.cpp binaries to load, e.g. @node-llama-cpp/linux-x64-vulkan or linux-x64 (@node-llama-cpp/ may be left out). Default: a CUDA or Vulkan build when installed, else the CPU one.',
  },
  { name: 'COMPUTE_TYPE', help: 'The x-compute-type response header. Default: cpu+llama.cpp, or gpu+llama.cpp with --gpu-layers.' },
  { name: 'LOG_COLORIZE', help: 'Set to 1: no colors in human-readable log lines, even on a terminal (as in TGI).' },
];

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

function environmentHelp(): string {
  const column = Math.max(...ENVIRONMENT.map((e) => e.name.length)) + 4;
  const rows = ENVIRONMENT.map((e) =>
    wrap(e.help, 80 - column)
      .map((line, i) => (i === 0 ? `  ${e.name.padEnd(column - 2)}` : ' '.repeat(column)) + line)
      .join('\n'),
  );
  return `\nEnvironment variables (besides the flags' own, shown with each flag):\n${rows.join('\n')}\n`;
}

export function buildCommand(version: string): Command {
  const command = new Command('tgi-node')
    .description('A Text Generation Inference (TGI) compatible server for GGUF models, running llama.cpp.')
    .version(version, '-V, --version')
    .helpOption('-h, --help', 'Show this help.')
    .showHelpAfterError()
    .allowExcessArguments(false);
  for (const [name, spec] of Object.entries(FLAGS) as [string, Flag][]) {
    const option = new Option(spec.flags, spec.help).env(spec.env);
    // A --no-* flag of the table is a flag of its own (--no-mmproj, with NO_MMPROJ), not commander's
    // negation of its positive (which would share one value and hide that both were given).
    option.negate = false;
    if (spec.parse) option.argParser(spec.parse);
    if (spec.preset !== undefined) option.preset(spec.preset);
    if (spec.default !== undefined) option.default(spec.default);
    if (option.attributeName() !== name) throw new Error(`flag table: ${spec.flags} is keyed ${name}, not ${option.attributeName()}`);
    command.addOption(option);
  }
  for (const spec of NOT_APPLICABLE) {
    const option = new Option(spec.flags, `Accepted for compatibility with TGI; ignored: ${spec.why}.`);
    if (spec.env) option.env(spec.env);
    command.addOption(option);
  }
  command.addOption(new Option('-e, --env', 'Print the runtime environment and exit.'));
  command.addHelpText('after', environmentHelp());
  return command;
}

/**
 * The values of the flags, parsed by the table's types, and of the environment-only variables: the
 * one place the server reads its environment (commander reads the flags' own variables).
 */
export function parseOptions(command: Command, env: NodeJS.ProcessEnv = process.env): Options {
  const hub: HubVariables = {};
  for (const name of HUB_VARIABLES) if (env[name] !== undefined) hub[name] = env[name];
  return {
    ...OPTIONS.parse(command.opts()),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    // As in TGI, LOG_COLORIZE=1 turns colours off.
    logColors: env.LOG_COLORIZE !== '1',
    computeType: env.COMPUTE_TYPE,
    llamaPackage: env.TGI_NODE_LLAMA_PACKAGE,
    hub,
  };
}

/** Warnings for TGI flags that were given but cannot apply here. */
export function ignoredFlagWarnings(command: Command): string[] {
  const warnings: string[] = [];
  for (const spec of NOT_APPLICABLE) {
    const option = command.options.find((o) => o.flags === spec.flags)!;
    const value = command.getOptionValue(option.attributeName());
    if (value !== undefined) warnings.push(`${option.long} is ignored: ${spec.why}`);
  }
  const opts = command.opts();
  if (opts.waitingServedRatio !== undefined)
    warnings.push('--waiting-served-ratio has no effect: chunked prefill admits requests at every step');
  if (opts.maxWaitingTokens !== undefined)
    warnings.push('--max-waiting-tokens has no effect: chunked prefill admits requests at every step');
  return warnings;
}
