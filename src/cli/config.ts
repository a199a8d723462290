// Turns parsed flags plus what the model file says into the one Config every layer reads.
import { availableParallelism, freemem } from 'node:os';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { ModelInfo } from '../engine/types.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../images/limits.js';
import { resolveApiKeys } from './api-key-sources.js';
import { ConfigError } from './config-error.js';
import type { Options } from './options.js';
import { STREAM_CELL_STEP, streamCells } from '../scheduler/kv-layout.js';

export { ConfigError };

interface ServerLimits {
  maxConcurrentRequests: number;
  maxBestOf: number;
  maxStopSequences: number;
  maxTopNTokens: number;
  maxInputTokens: number;
  maxTotalTokens: number;
  maxClientBatchSize: number;
  disableGrammarSupport: boolean;
  /** Ids of the LoRA adapters (--lora-adapters). */
  loraAdapters: string[];
}

interface EngineSettings {
  modelPath: string;
  maxBatchPrefillTokens: number;
  maxBatchSize: number;
  /** KV cells shared by the running requests (--max-batch-total-tokens). */
  kvPoolCells: number;
  microBatchTokens: number;
  threads: number;
  threadsBatch: number;
  gpuLayers: number;
  flashAttention: 'auto' | 'on' | 'off';
  kvCacheType?: string;
  useMmap: boolean;
  useMlock: boolean;
  prefixCaching: boolean;
  loraAdapters: { id: string; path: string }[];
}

/** Where traces go (--otlp-endpoint) and the service they are of. */
export interface OtlpSettings {
  endpoint: string;
  serviceName: string;
}

export interface Config {
  modelId: string;
  /** The vision projector (mmproj GGUF) to encode images with; absent: the model takes text only. */
  projectorPath?: string;
  /** What OpenAI responses and /v1/models call the model. */
  servedModelName: string;
  hostname: string;
  port: number;
  /** A second port that serves only GET /metrics. */
  prometheusPort?: number;
  payloadLimit: number;
  jsonOutput: boolean;
  corsAllowOrigins: string[];
  /** Keys of the routes that work on request content; none: open. */
  apiKeys: string[];
  /** Keys of /metrics; none: open. */
  metricsApiKeys: string[];
  gracefulTerminationSeconds: number;
  /** --validation-workers: reported by /info, no other effect. */
  validationWorkers: number;
  /** Bytes of the response cache; 0: none. */
  responseCacheBytes: number;
  /** --allow-runtime-lora: the LoRA load and unload routes answer. */
  allowRuntimeLora: boolean;
  watermark: { gamma: number; delta: number };
  /** What one request's images may cost, and where their URLs may lead. */
  images: ImageLimits;
  /** Vision threads, each encoding one image at a time (--image-encoders). */
  imageEncoders: number;
  computeType: string;
  /** Absent: no tracing. */
  otlp?: OtlpSettings;
  limits: ServerLimits;
  engine: EngineSettings;
}

/** The flags' values, plus what the launcher resolved from them. */
export type RawOptions = Options & {
  /** The GGUF file --model-id resolved to (set by the launcher, not a flag). */
  modelPath?: string;
  /** The projector file --mmproj named or the resolution found beside the model, checked (set by the launcher, not a flag). */
  projectorPath?: string;
  /** The adapters' files, resolved and checked (set by the launcher, not a flag). */
  resolvedLoraAdapters?: { id: string; path: string }[];
};

const DEFAULT_MAX_TOTAL_TOKENS = 4096;
const MAX_SEQUENCES = 256;
/** The request length the default KV pool is sized for: max_batch_size requests of it at once. */
export const TYPICAL_REQUEST_TOKENS = 1024;
/** Share of the free memory the default KV pool may take. */
const KV_MEMORY_SHARE = 0.25;

/**
 * The default KV pool: max_batch_size requests of a typical length (or max_total_tokens, if
 * shorter), within a quarter of the free memory, and never less than one request of
 * max_total_tokens.
 */
export function defaultPoolCells(info: ModelInfo, maxTotalTokens: number, maxBatchSize: number, free = freemem()): number {
  // In whole streams (multiples of 256 cells): max_batch_size requests of 300 tokens need streams of 512.
  const wanted = maxBatchSize * streamCells(Math.min(maxTotalTokens, TYPICAL_REQUEST_TOKENS));
  const affordable = Math.floor((KV_MEMORY_SHARE * free) / Math.max(1, kvBytesPerToken(info)));
  return Math.max(streamCells(maxTotalTokens), Math.min(wanted, affordable));
}

/** llama.cpp sizes each sequence's stream in multiples of 256 cells; so is the pool. */
function roundToStreams(cells: number): number {
  return Math.ceil(cells / STREAM_CELL_STEP) * STREAM_CELL_STEP;
}

/** Bytes of f16 KV cache one token takes across all layers. */
export function kvBytesPerToken(info: ModelInfo): number {
  const headDim = info.heads > 0 ? info.embeddingSize / info.heads : info.embeddingSize;
  return info.layers * 2 * info.kvHeads * headDim * 2;
}

/**
 * The address --hostname (or HOSTNAME) names: an IP address as it is, a name as this machine
 * resolves it (in a container, HOSTNAME is the container's id, which /etc/hosts maps to its own
 * address). A name that does not resolve is an error, never a silent fallback to every interface.
 */
export async function resolveHostname(
  value: string,
  resolve: (name: string) => Promise<{ address: string }> = (name) => lookup(name),
): Promise<string> {
  if (isIP(value)) return value;
  try {
    return (await resolve(value)).address;
  } catch (error) {
    const cause = (error as { code?: string }).code ?? (error as Error).message;
    throw new ConfigError(
      `--hostname (or HOSTNAME) "${value}" is neither an IP address nor a name this machine resolves (${cause}). Give the address to listen on: --hostname 0.0.0.0 for every interface, --hostname 127.0.0.1 for this machine only.`,
    );
  }
}

/** OTLP's gRPC port: a collector there does not answer OTLP/HTTP. */
const OTLP_GRPC_PORT = '4317';

function resolveOtlp(endpoint: string | undefined, serviceName: string, warn: (message: string) => void): OtlpSettings | undefined {
  if (endpoint === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new ConfigError(`--otlp-endpoint must be an http:// or https:// URL (OTLP/HTTP), got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`--otlp-endpoint must be an http:// or https:// URL (OTLP/HTTP), got "${endpoint}"`);
  if (url.port === OTLP_GRPC_PORT)
    warn(`--otlp-endpoint ${endpoint}: port ${OTLP_GRPC_PORT} is OTLP/gRPC's; tgi-node exports over OTLP/HTTP (usually port 4318)`);
  return { endpoint, serviceName };
}

export function resolveConfig(raw: RawOptions, info: ModelInfo, warn: (message: string) => void): Config {
  if (!raw.modelId) throw new ConfigError('--model-id (or MODEL_ID) is required');
  if (raw.validationWorkers <= 0) throw new ConfigError('`validation_workers` must be > 0');
  if (raw.maxInputTokens !== undefined && raw.maxInputLength !== undefined) {
    throw new ConfigError(
      `Both \`max_input_tokens\` (${raw.maxInputTokens}) and \`max_input_length\` (${raw.maxInputLength}) are set. Please define only \`max_input_tokens\` as \`max_input_length is deprecated for naming consistency.`,
    );
  }
  if (raw.maxBatchTotalTokens !== undefined && raw.ctxSize !== undefined && raw.maxBatchTotalTokens !== raw.ctxSize) {
    throw new ConfigError(`--ctx-size (${raw.ctxSize}) and --max-batch-total-tokens (${raw.maxBatchTotalTokens}) disagree; give one`);
  }
  const trained = info.trainedContext > 0 ? info.trainedContext : DEFAULT_MAX_TOTAL_TOKENS;
  const givenInput = raw.maxInputTokens ?? raw.maxInputLength;
  let maxTotalTokens = raw.maxTotalTokens ?? Math.min(trained, DEFAULT_MAX_TOTAL_TOKENS);
  if (raw.maxTotalTokens === undefined && givenInput !== undefined && givenInput >= maxTotalTokens) maxTotalTokens = givenInput + 1;
  const maxInputTokens = givenInput ?? maxTotalTokens - 1;
  if (maxInputTokens >= maxTotalTokens) {
    throw new ConfigError(`\`max_input_tokens\`(${maxInputTokens}) must be < \`max_total_tokens\`(${maxTotalTokens})`);
  }
  if (maxTotalTokens > trained)
    warn(`max_total_tokens ${maxTotalTokens} exceeds the model's training context of ${trained} tokens: quality may degrade beyond it`);

  const maxBatchSize = raw.maxBatchSize;
  if (maxBatchSize < 1) throw new ConfigError('`max_batch_size` must be > 0');
  if (maxBatchSize > MAX_SEQUENCES) throw new ConfigError(`\`max_batch_size\` must be <= ${MAX_SEQUENCES} (llama.cpp sequence limit)`);
  const givenTotal = raw.maxBatchTotalTokens ?? raw.ctxSize;
  const kvPoolCells = roundToStreams(givenTotal ?? defaultPoolCells(info, maxTotalTokens, maxBatchSize));
  if (maxTotalTokens > kvPoolCells) {
    throw new ConfigError(
      `\`max_total_tokens\` must be <= \`max_batch_total_tokens\`. Given: ${maxTotalTokens} and ${givenTotal ?? kvPoolCells}`,
    );
  }

  const threads = raw.threads ?? availableParallelism();
  const kvCacheType = raw.kvCacheDtype?.startsWith('fp8') ? 'q8_0' : raw.kvCacheDtype;
  return {
    modelId: raw.modelId,
    ...(raw.projectorPath !== undefined ? { projectorPath: raw.projectorPath } : {}),
    servedModelName: raw.servedModelName ?? raw.modelId,
    hostname: raw.hostname,
    port: raw.port,
    prometheusPort: raw.prometheusPort,
    payloadLimit: raw.payloadLimit,
    jsonOutput: raw.jsonOutput,
    corsAllowOrigins: raw.corsAllowOrigin ?? [],
    apiKeys: resolveApiKeys({
      flag: '--api-key',
      values: raw.apiKey,
      file: raw.apiKeyFile === undefined ? undefined : { path: raw.apiKeyFile, flag: '--api-key-file' },
    }),
    metricsApiKeys: resolveApiKeys({ flag: '--metrics-api-key', values: raw.metricsApiKey }),
    gracefulTerminationSeconds: raw.gracefulTerminationTimeout,
    validationWorkers: raw.validationWorkers,
    responseCacheBytes: raw.responseCacheSize * 2 ** 20,
    allowRuntimeLora: raw.allowRuntimeLora,
    watermark: { gamma: raw.watermarkGamma, delta: raw.watermarkDelta },
    images: {
      maxBytes: raw.maxImageFetchSize,
      maxImagesPerRequest: raw.maxImagesPerRequest,
      maxPixels: raw.maxImagePixels,
      fetchTimeoutMs: raw.imageFetchTimeout * 1000,
      maxRedirects: DEFAULT_IMAGE_LIMITS.maxRedirects,
      allowPrivateUrls: raw.allowPrivateImageUrls,
    },
    imageEncoders: raw.imageEncoders,
    computeType: raw.computeType ?? (raw.gpuLayers !== 0 ? 'gpu+llama.cpp' : 'cpu+llama.cpp'),
    otlp: resolveOtlp(raw.otlpEndpoint, raw.otlpServiceName, warn),
    limits: {
      maxConcurrentRequests: raw.maxConcurrentRequests,
      maxBestOf: raw.maxBestOf,
      maxStopSequences: raw.maxStopSequences,
      maxTopNTokens: raw.maxTopNTokens,
      maxInputTokens,
      maxTotalTokens,
      maxClientBatchSize: raw.maxClientBatchSize,
      disableGrammarSupport: raw.disableGrammarSupport,
      loraAdapters: (raw.resolvedLoraAdapters ?? []).map((adapter) => adapter.id),
    },
    engine: {
      modelPath: raw.modelPath ?? raw.modelId,
      maxBatchPrefillTokens: raw.maxBatchPrefillTokens,
      maxBatchSize,
      kvPoolCells,
      microBatchTokens: raw.ubatchSize,
      threads,
      threadsBatch: raw.threadsBatch ?? threads,
      gpuLayers: raw.gpuLayers,
      flashAttention: raw.flashAttn,
      kvCacheType,
      useMmap: raw.mmap && !raw.disableMmap,
      useMlock: raw.useMlock,
      prefixCaching: !raw.disablePrefixCaching,
      loraAdapters: raw.resolvedLoraAdapters ?? [],
    },
  };
}
