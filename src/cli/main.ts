#!/usr/bin/env node
// The launcher: flags -> Config, load the model on the engine thread, serve HTTP.
import { readFileSync, statSync } from 'node:fs';
import { AdapterListError, parseAdapterList, type AdapterSource } from '../lora/adapter-list.js';
import { AdapterMismatchError, checkAdapterFits } from '../lora/adapter-file.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FrontDoor, LoadingStatus } from '../server/front-door.js';
import { basename } from 'node:path';
import { buildMetricsApp } from '../server/metrics-app.js';
import type { Logger } from 'pino';
import { buildCommand, ignoredFlagWarnings, parseOptions } from './options.js';
import {
  ConfigError,
  kvBytesPerToken,
  resolveHostname,
  TYPICAL_REQUEST_TOKENS,
  resolveConfig,
  type Config,
  type OtlpSettings,
  type RawOptions,
} from './config.js';
import { initialLayout, streamCells, type KvPool } from '../scheduler/kv-layout.js';
import { createDownloadProgress, createLoadProgress } from './progress.js';
import { findsProjector, locateProjector } from './projector.js';
import { VisionThread, type VisionInfo } from '../preprocess/vision.js';
import { MEDIA_MARKER } from '../vision/encoder.js';

/** Nice value of the vision thread: image encoding yields the cores to the engine's steps. */
const VISION_NICE = 10;
import { DEFAULT_MODEL_ID } from '../hub/default-model.js';
import { hubEnvironment } from '../hub/environment.js';
import { ModelResolutionError, resolveModel, type ResolvedModel } from '../hub/resolve-model.js';
import { createLogger } from '../logging/logger.js';
import { chooseLlamaPackage } from '../engine/llama/library.js';
import { LlamaModel } from '../engine/llama/model.js';
import { routeLlamaLogs } from '../engine/llama/logging.js';
import { loadLlamaApi } from '../engine/llama/binding.js';
import { EngineClient } from '../runtime/worker-client.js';
import { Permits } from '../server/permits.js';
import { Metrics } from '../metrics/registry.js';
import { Generator } from '../server/generator.js';
import { buildApp } from '../server/app.js';
import { InFlightRequests } from '../server/in-flight.js';
import { GracefulShutdown } from '../server/shutdown.js';
import { ChatPrompter } from '../chat/prompt.js';
import { resolveTemplateSource } from './chat-template.js';
import { PreprocessWorker } from '../preprocess/worker-client.js';
import { Preprocessor } from '../preprocess/preprocessor.js';
import type { Tracing } from '../tracing/provider.js';
import type { ServerInfo } from '../api/operations.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const VERSION = packageJson.version;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

function printEnvironment(): void {
  const api = loadLlamaApi();
  console.log(`tgi-node ${VERSION}`);
  console.log(`node ${process.version} ${process.platform}-${process.arch}`);
  console.log(`llama.cpp binaries: ${api.binariesDir}`);
  console.log(`llama.cpp system info: ${api.llama_print_system_info()}`);
  console.log(`GPU offload supported: ${api.llama_supports_gpu_offload()}`);
}

function chatPrompter(raw: RawOptions, vocabularyModel: LlamaModel, logger: Logger): ChatPrompter {
  const source = resolveTemplateSource(raw, vocabularyModel.chatTemplate());
  const prompter = ChatPrompter.create(source, vocabularyModel.vocabulary, raw.projectorPath !== undefined ? MEDIA_MARKER : undefined);
  if (source.fallback)
    logger.warn(
      'The model has no chat template: /v1/chat/completions uses ChatML (<|im_start|>role ... <|im_end|>). Give one with --chat-template or --tokenizer-config-path.',
    );
  else if (prompter.compileError)
    logger.warn(`The chat template (${source.origin}) does not compile, so chat requests will fail: ${prompter.compileError.message}`);
  else logger.info(`Chat template: ${source.origin}`);
  const format = prompter.toolFormat.id;
  const how = format === 'generic-json' ? 'the generic JSON format (the template has no tool format of its own)' : `the ${format} format`;
  logger.info({ toolCallFormat: format }, `Tool calls: ${how}`);
  return prompter;
}

async function locateModel(raw: RawOptions, logger: Logger, status: LoadingStatus, projector = false): Promise<ResolvedModel> {
  const modelId = raw.modelId ?? DEFAULT_MODEL_ID;
  if (!raw.modelId) logger.info(`No --model-id given: serving the default model ${DEFAULT_MODEL_ID}`);
  const progress = createDownloadProgress(logger);
  const downloads = new Map<string, { done: number; total: number }>();
  try {
    return await resolveModel(modelId, {
      revision: raw.revision ?? 'main',
      ggufFile: raw.ggufFile,
      projector,
      hub: hubEnvironment(raw.hub, raw.huggingfaceHubCache),
      log: (message) => logger.info(message),
      warn: (message) => logger.warn(message),
      onDownload: (file, done, total) => {
        progress.update(file, done, total);
        downloads.set(file, { done, total });
        let all = 0;
        let received = 0;
        for (const d of downloads.values()) {
          all += d.total;
          received += d.done;
        }
        status.update('downloading', all > 0 ? received / all : 0);
      },
      onDownloadEnd: (file) => progress.end(file),
    });
  } catch (error) {
    if (error instanceof ModelResolutionError) throw new ConfigError(error.message);
    throw error;
  }
}

/** --lora-adapters: each adapter's file (hub repositories resolved like --model-id), checked against the model. */
async function locateAdapters(
  raw: RawOptions,
  modelPath: string,
  logger: Logger,
  status: LoadingStatus,
): Promise<{ id: string; path: string }[]> {
  if (!raw.loraAdapters) return [];
  let sources: AdapterSource[];
  try {
    sources = parseAdapterList(raw.loraAdapters);
  } catch (error) {
    if (error instanceof AdapterListError) throw new ConfigError(error.message);
    throw error;
  }
  const adapters: { id: string; path: string }[] = [];
  for (const source of sources) {
    let path = source.path;
    path ??= (await locateModel({ ...raw, modelId: source.id, ggufFile: undefined, revision: 'main' }, logger, status)).path;
    try {
      const fit = await checkAdapterFits(source.id, path, modelPath);
      logger.info(`LoRA adapter ${source.id}: ${fit.tensors} adapted tensors, rank ${fit.rank}, alpha ${fit.alpha}`);
    } catch (error) {
      if (error instanceof AdapterMismatchError) throw new ConfigError(`--lora-adapters: ${error.message}`);
      throw error;
    }
    adapters.push({ id: source.id, path });
  }
  return adapters;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** An address as URLs write it (IPv6 in brackets). */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The host of the URLs the log gives to click: a wildcard address is reached as localhost. */
function displayHost(hostname: string): string {
  return WILDCARDS.has(hostname) ? 'localhost' : urlHost(hostname);
}

/** Where the server really listens, and what that means when it is every interface. */
function listenDescription(hostname: string, port: number): string {
  const url = `http://${urlHost(hostname)}:${port}`;
  if (!WILDCARDS.has(hostname)) return url;
  return `${url}, every interface of this machine (--hostname 127.0.0.1 keeps it to this machine); locally http://localhost:${port}`;
}

/** What the KV pool holds: its cells and bytes, and how many requests of typical lengths run at once. */
function kvPoolLine(pool: KvPool, cellBytes: number, maxTotalTokens: number): string {
  const lengths = [...new Set([512, TYPICAL_REQUEST_TOKENS, maxTotalTokens])].filter((n) => n <= maxTotalTokens).sort((a, b) => a - b);
  const allowed = lengths.map((n) => `${Math.min(pool.maxSequences, Math.floor(pool.cells / streamCells(n)))} of ${n}`);
  return `KV cache: a pool of ${pool.cells} cells (${formatBytes(cellBytes * pool.cells)}, ${formatBytes(cellBytes)} each) shared by the running requests; requests running at once by their tokens (prompt + max_new_tokens): ${allowed.join(', ')}; at most ${pool.maxSequences} (--max-batch-size)`;
}

/** The OpenTelemetry SDK, loaded only when --otlp-endpoint asks for it. */
async function loadTracing(otlp: OtlpSettings, logger: Logger): Promise<Tracing> {
  const { startTracing } = await import('../tracing/provider.js');
  const tracingLogger = logger.child({ component: 'tracing' });
  return startTracing({ ...otlp, serviceVersion: VERSION, warn: (message) => tracingLogger.warn(message) });
}

/** The engine thread's configuration: the model, the llama.cpp context and the scheduler. */
function workerConfig(config: Config, layout: ReturnType<typeof initialLayout>): Parameters<typeof EngineClient.start>[0] {
  const engine = config.engine;
  return {
    engine: {
      modelPath: engine.modelPath,
      sequenceContextSize: layout.sequenceCells,
      maxSequences: layout.sequences,
      maxBatchTokens: engine.maxBatchPrefillTokens + engine.maxBatchSize,
      microBatchTokens: engine.microBatchTokens,
      threads: engine.threads,
      threadsBatch: engine.threadsBatch,
      flashAttention: engine.flashAttention,
      kvCacheType: engine.kvCacheType,
      gpuLayers: engine.gpuLayers,
      useMmap: engine.useMmap,
      useMlock: engine.useMlock,
      loraAdapters: engine.loraAdapters,
    },
    scheduler: {
      maxSequences: engine.maxBatchSize,
      poolCells: engine.kvPoolCells,
      maxPrefillTokens: engine.maxBatchPrefillTokens,
      prefixCaching: engine.prefixCaching,
    },
    watermark: config.watermark,
  };
}

/**
 * TGI's POST / defaults return_full_text by the model's hub pipeline tag: true for
 * text-generation or when no tag is known (a local model), false for any other tag.
 */
function compatReturnFullText(pipelineTag: string | null): boolean {
  return pipelineTag === null || pipelineTag === 'text-generation';
}

/**
 * Opens the projector on the vision thread. A projector that cannot serve (another width than the
 * model's embeddings, an unsupported type) stops the launch with the reason.
 */
async function startVision(config: Config, projectorPath: string): Promise<VisionThread> {
  let thread: VisionThread;
  try {
    thread = await VisionThread.start(
      { modelPath: config.engine.modelPath, projectorPath, limits: config.images, nice: VISION_NICE },
      config.imageEncoders,
    );
  } catch (error) {
    throw new ConfigError(`cannot serve images: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { info } = thread;
  if (info.marker !== MEDIA_MARKER) {
    await thread.close();
    throw new ConfigError(`cannot serve images: the image encoder's marker is ${info.marker}, not ${MEDIA_MARKER}`);
  }
  if (info.nonCausal && info.tokensPerImage > config.engine.microBatchTokens) {
    await thread.close();
    throw new ConfigError(
      `cannot serve images: a ${info.projectorType} image is ${info.tokensPerImage} rows decoded together, more than --ubatch-size ${config.engine.microBatchTokens}; give --ubatch-size ${info.tokensPerImage} or more`,
    );
  }
  return thread;
}

/** What GET /info reports. */
function serverInfo(config: Config, model: ResolvedModel, pool: KvPool, cellBytes: number, image?: VisionInfo): ServerInfo {
  return {
    model_id: config.modelId,
    model_sha: model.sha,
    model_pipeline_tag: model.pipelineTag,
    max_concurrent_requests: config.limits.maxConcurrentRequests,
    max_best_of: config.limits.maxBestOf,
    max_stop_sequences: config.limits.maxStopSequences,
    max_input_tokens: config.limits.maxInputTokens,
    max_total_tokens: config.limits.maxTotalTokens,
    validation_workers: config.validationWorkers,
    max_client_batch_size: config.limits.maxClientBatchSize,
    // Extensions: the KV pool the running requests share, and the most that run at once.
    max_batch_total_tokens: pool.cells,
    max_batch_size: pool.maxSequences,
    lora_adapters: config.limits.loraAdapters,
    input_modalities: image ? ['text', 'image'] : ['text'],
    ...(image
      ? { image: { projector_type: image.projectorType, image_size: image.imageSize, tokens_per_image: image.tokensPerImage } }
      : {}),
    kv_cache_cells: pool.cells,
    kv_cache_bytes: cellBytes * pool.cells,
    router: 'tgi-node',
    version: VERSION,
    sha: null,
    docker_label: null,
  };
}

interface Endpoints {
  loadSeconds: number;
  /** The URL to click (a wildcard address reads as localhost). */
  url: string;
  /** Where the server listens, in words. */
  listen: string;
  /** Where the server listens, as a URL. */
  listenUrl: string;
  metricsUrl?: string;
  tracing?: { url: string; serviceName: string };
}

/** The startup summary: its lines, and the same facts as fields for JSON logs. */
function startupSummary(
  config: Config,
  engine: EngineClient,
  pool: KvPool,
  at: Endpoints,
): { fields: Record<string, unknown>; lines: string[] } {
  const info = engine.info;
  const ctx = engine.context;
  const cellBytes = kvBytesPerToken(info);
  const fields = {
    model: config.modelId,
    architecture: info.architecture,
    parameters: info.parameterCount,
    sizeBytes: info.sizeBytes,
    trainedContext: info.trainedContext,
    kvCacheTokens: pool.cells,
    kvCacheBytes: cellBytes * pool.cells,
    maxTotalTokens: config.limits.maxTotalTokens,
    maxInputTokens: config.limits.maxInputTokens,
    maxBatchSize: engine.limits.maxSequences,
    maxPrefillTokens: engine.limits.maxPrefillTokens,
    threads: ctx.threads,
    threadsBatch: ctx.threadsBatch,
    weightsInHugePages: ctx.weightsInHugePages,
    loadSeconds: Number(at.loadSeconds.toFixed(2)),
    url: at.url,
    ...(at.metricsUrl ? { metricsUrl: at.metricsUrl } : {}),
    ...(at.tracing ? { tracesUrl: at.tracing.url } : {}),
    listen: at.listenUrl,
  };
  const lines = [
    `Model ${config.modelId}: ${info.architecture}, ${formatCount(info.parameterCount)} parameters, ${formatBytes(info.sizeBytes)} of ${info.description} weights, vocabulary ${info.vocabSize} (${info.vocabType}), trained context ${info.trainedContext}`,
    `Limits: max_total_tokens ${config.limits.maxTotalTokens}, max_input_tokens ${config.limits.maxInputTokens}, max_concurrent_requests ${config.limits.maxConcurrentRequests}`,
    kvPoolLine(pool, cellBytes, config.limits.maxTotalTokens),
    `Engine: prefill ${engine.limits.maxPrefillTokens} tokens/step, prefix caching ${engine.limits.prefixCaching ? 'on' : 'off'}, threads ${ctx.threads}/${ctx.threadsBatch}, ${ctx.weightsInHugePages > 0 ? `weights in huge pages (${formatBytes(ctx.weightsInHugePages)})` : 'weights in 4 KiB pages'}, loaded in ${at.loadSeconds.toFixed(2)} s`,
    `Listening on ${at.listen}${at.metricsUrl ? `; metrics also on ${at.metricsUrl}` : ''}`,
  ];
  if (at.tracing)
    lines.push(`Tracing: spans of the generation requests go to ${at.tracing.url} (OTLP/HTTP) as service ${at.tracing.serviceName}`);
  return { fields, lines };
}

async function launch(
  config: Config,
  model: ResolvedModel,
  vocabularyModel: LlamaModel,
  prompter: ChatPrompter,
  logger: Logger,
  door: FrontDoor,
): Promise<void> {
  const progress = createLoadProgress(logger, `Loading ${basename(config.engine.modelPath)}`);
  door.status.update('loading', 0);
  const started = performance.now();
  const vision = config.projectorPath === undefined ? undefined : startVision(config, config.projectorPath);
  const preprocessing = PreprocessWorker.start({
    modelPath: config.engine.modelPath,
    template: prompter.source,
    ...(prompter.imageMarker !== undefined ? { imageMarker: prompter.imageMarker } : {}),
  }).catch((error: unknown) => {
    logger.warn(
      `The preprocessing thread did not start (${error instanceof Error ? error.message : String(error)}): large prompts are tokenized on the HTTP thread`,
    );
    return undefined;
  });
  const pool = { cells: config.engine.kvPoolCells, maxSequences: config.engine.maxBatchSize };
  const layout = initialLayout(pool);
  const engine = await EngineClient.start(workerConfig(config, layout), {
    onProgress: (fraction) => {
      progress.update(fraction);
      door.status.update('loading', fraction);
    },
    onLog: (level, text) => (level === 'error' ? logger.error(`llama.cpp: ${text}`) : logger.trace(`llama.cpp: ${text}`)),
  })
    .catch(async (error: unknown) => {
      // The preprocessing thread may still be inside llama.cpp, loading its vocabulary and calling
      // llama.cpp's log callback all along: exiting then tears the thread down under such a call,
      // which aborts the process (exit 134) instead of the exit 1 the error deserves. It is let
      // finish and stopped before the error ends the process.
      await (await preprocessing)?.close();
      await (await vision?.catch(() => undefined))?.close();
      throw error;
    })
    .finally(() => progress.stop());
  const visionThread = await vision;
  if (visionThread) {
    const { info: image } = visionThread;
    logger.info(
      {
        projector: config.projectorPath,
        projectorType: image.projectorType,
        imageSize: image.imageSize,
        tokensPerImage: image.tokensPerImage,
      },
      `Images: projector ${basename(config.projectorPath!)} (${image.projectorType}), images taken at ${image.imageSize}x${image.imageSize} pixels, ${image.tokensPerImage} prompt tokens each${image.nonCausal ? ', decoded without causal attention' : ''}; encoded by ${image.packageName}, ${visionThread.encoders} at once (--image-encoders), below the engine's priority`,
    );
  }
  const loadSeconds = (performance.now() - started) / 1000;

  const vocabulary = vocabularyModel.vocabulary;
  const info = engine.info;
  const metrics = new Metrics({ ...config.limits, maxBatchTotalTokens: pool.cells });
  engine.onSteps((steps) => metrics.recordSteps(steps));
  const permits = new Permits(config.limits.maxConcurrentRequests);
  const preprocessor = new Preprocessor(vocabulary, prompter, await preprocessing, undefined, visionThread);
  const generator = new Generator(engine, vocabulary, { ...config.limits }, metrics, permits, preprocessor);
  let route: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const tracing = config.otlp ? await loadTracing(config.otlp, logger) : undefined;
  const app = await buildApp({
    // The port is already open (see FrontDoor): the app answers on it once ready.
    serverFactory: (handler) => {
      route = handler;
      return door.server;
    },
    generator,
    logger,
    payloadLimit: config.payloadLimit,
    corsAllowOrigins: config.corsAllowOrigins,
    apiKeys: config.apiKeys,
    metricsApiKeys: config.metricsApiKeys,
    computeType: config.computeType,
    compatReturnFullText: compatReturnFullText(model.pipelineTag),
    prompter,
    servedModel: config.servedModelName,
    watermark: config.watermark,
    tracer: tracing?.tracer,
    responseCacheBytes: config.responseCacheBytes,
    modelCreated: Math.floor(statSync(config.engine.modelPath).mtimeMs / 1000),
    runtimeLora: { enabled: config.allowRuntimeLora, modelPath: config.engine.modelPath },
    info: serverInfo(config, model, pool, kvBytesPerToken(info), visionThread?.info),
  });
  // Fastify closes only servers it started listening: the shutdown closes this one (see shutdown.ts).
  const requests = new InFlightRequests(app);
  await app.ready();
  // The handlers are in place before the server answers or says it is ready: a signal sent then
  // must drain, not meet the default action (which ends the process at once).
  const shutdown = new GracefulShutdown({
    app,
    engine,
    requests,
    logger,
    tracing,
    graceSeconds: config.gracefulTerminationSeconds,
    exit: (code) => process.exit(code),
  });
  process.on('SIGINT', () => shutdown.onSignal('SIGINT'));
  process.on('SIGTERM', () => shutdown.onSignal('SIGTERM'));
  door.open(route!);
  const port = door.port;
  const host = displayHost(config.hostname);
  let metricsUrl: string | undefined;
  if (config.prometheusPort !== undefined) {
    const metricsApp = await buildMetricsApp(generator, config.metricsApiKeys);
    await metricsApp.listen({ host: config.hostname, port: config.prometheusPort });
    metricsUrl = `http://${host}:${(metricsApp.server.address() as { port: number }).port}/metrics`;
  }
  const summary = startupSummary(config, engine, pool, {
    loadSeconds,
    url: `http://${host}:${port}`,
    listen: listenDescription(config.hostname, port),
    listenUrl: `http://${urlHost(config.hostname)}:${port}`,
    metricsUrl,
    tracing: tracing && config.otlp ? { url: tracing.url, serviceName: config.otlp.serviceName } : undefined,
  });
  if (config.jsonOutput) logger.info(summary.fields, summary.lines.join('; '));
  else for (const line of summary.lines) logger.info(line);
}

/**
 * The model name responses report when a request names none: the hub repository, or the GGUF
 * file's name for a local model (never a path of this machine).
 */
function defaultServedName(model: ResolvedModel): string {
  return model.source === 'hub' || model.source === 'cache' ? model.modelId : basename(model.path);
}

async function main(): Promise<void> {
  const command = buildCommand(VERSION);
  command.parse(process.argv);
  const raw = parseOptions(command);
  // The threads started from now on (engine, preprocessing) load the same llama.cpp build.
  chooseLlamaPackage(raw.llamaPackage);
  if (command.getOptionValue('env') === true) {
    printEnvironment();
    return;
  }
  const logger = createLogger(raw.jsonOutput, raw.logLevel, raw.logColors);
  for (const warning of ignoredFlagWarnings(command)) logger.warn(warning);
  try {
    const findProjector = findsProjector(raw);
    // The port opens first: while the model downloads and loads, requests get a 503 with the progress.
    const hostname = await resolveHostname(raw.hostname);
    const status = new LoadingStatus(raw.modelId ?? DEFAULT_MODEL_ID);
    const door = await FrontDoor.listen(hostname, raw.port, status, raw.maxConcurrentRequests);
    logger.info(
      { loadingUrl: `http://${displayHost(hostname)}:${door.port}` },
      `Listening on ${listenDescription(hostname, door.port)}: requests get 503 (model loading) until the model is ready, or wait for it with the header x-wait-for-model: true`,
    );
    const model = await locateModel(raw, logger, status, findProjector);
    const projector = await locateProjector(raw, model);
    logger.info({ projector: projector.projector?.path ?? null }, projector.description);
    const resolvedLoraAdapters = await locateAdapters(raw, model.path, logger, status);
    const options: RawOptions = {
      ...raw,
      hostname,
      resolvedLoraAdapters,
      modelId: model.modelId,
      modelPath: model.path,
      projectorPath: projector.projector?.path,
      servedModelName: raw.servedModelName ?? defaultServedName(model),
    };
    routeLlamaLogs((level, text) => (level === 'error' ? logger.error(`llama.cpp: ${text}`) : logger.trace(`llama.cpp: ${text}`)));
    // The HTTP thread tokenizes with its own vocabulary-only copy of the model.
    const vocabularyModel = LlamaModel.load(model.path, { vocabOnly: true });
    const config = resolveConfig(options, vocabularyModel.info(), (message) => logger.warn(message));
    const prompter = chatPrompter(options, vocabularyModel, logger);
    await launch(config, model, vocabularyModel, prompter, logger, door);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.fatal(message);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    setImmediate(() => process.exit());
  }
}

void main();
