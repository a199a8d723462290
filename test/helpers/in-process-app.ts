// The HTTP app built in-process on a Backend (a FakeBackend by default): no engine thread, no
// weights. Tokenizing uses stories260K's vocabulary alone, which loads in milliseconds.
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { Generator, type GeneratorLimits } from '../../src/server/generator.js';
import { Metrics } from '../../src/metrics/registry.js';
import { Permits } from '../../src/server/permits.js';
import { Preprocessor } from '../../src/preprocess/preprocessor.js';
import { ChatPrompter } from '../../src/chat/prompt.js';
import { fallbackTemplate } from '../../src/chat/template-source.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import type { Backend } from '../../src/core/backend.js';
import { STORIES } from './models.js';
import { FakeBackend } from './fake-backend.js';

let vocabulary: LlamaModel | undefined;

export interface InProcessOptions {
  backend?: Backend;
  limits?: Partial<GeneratorLimits>;
  /** Options of buildApp to set beside the defaults. */
  app?: Partial<Omit<AppOptions, 'generator'>>;
}

export interface InProcessApp {
  app: FastifyInstance;
  generator: Generator;
  metrics: Metrics;
}

export async function inProcessApp(options: InProcessOptions = {}): Promise<InProcessApp> {
  vocabulary ??= LlamaModel.load(STORIES, { vocabOnly: true });
  const tokenizer = vocabulary.vocabulary;
  const limits: GeneratorLimits = {
    maxConcurrentRequests: 4,
    maxClientBatchSize: 4,
    maxBestOf: 2,
    maxStopSequences: 4,
    maxTopNTokens: 5,
    maxInputTokens: 200,
    maxTotalTokens: 256,
    disableGrammarSupport: false,
    loraAdapters: [],
    ...options.limits,
  };
  const metrics = new Metrics({ ...limits, maxBatchTotalTokens: 256 });
  const prompter = ChatPrompter.create(fallbackTemplate(), tokenizer);
  const preprocessor = new Preprocessor(tokenizer, prompter, undefined);
  const generator = new Generator(
    options.backend ?? new FakeBackend(),
    tokenizer,
    limits,
    metrics,
    new Permits(limits.maxConcurrentRequests),
    preprocessor,
  );
  const app = await buildApp({
    generator,
    info: {
      model_id: 'stories260K',
      model_sha: null,
      model_pipeline_tag: 'text-generation',
      max_concurrent_requests: limits.maxConcurrentRequests,
      max_best_of: limits.maxBestOf,
      max_stop_sequences: limits.maxStopSequences,
      max_input_tokens: limits.maxInputTokens,
      max_total_tokens: limits.maxTotalTokens,
      validation_workers: 1,
      max_client_batch_size: limits.maxClientBatchSize,
      max_batch_total_tokens: 256,
      max_batch_size: 4,
      kv_cache_cells: 256,
      kv_cache_bytes: 0,
      lora_adapters: [],
      input_modalities: ['text'],
      router: 'tgi-node',
      version: 'test',
      sha: null,
      docker_label: null,
    },
    logger: pino({ level: 'silent' }),
    payloadLimit: 1_000_000,
    corsAllowOrigins: [],
    computeType: 'cpu+test',
    compatReturnFullText: true,
    prompter,
    servedModel: 'stories260K',
    watermark: { gamma: 0.5, delta: 2 },
    ...options.app,
  });
  return { app, generator, metrics };
}
