// What the route handlers generate with: the backend, the vocabulary, the limits, the metrics and
// permits; starting a validated request (its metrics and span), a finish's metrics, and the
// headers and accounting of a finished generation. The request's life is in lifecycle.ts.
import type { Backend, RequestStream } from '../core/backend.js';
import type { FinishInfo, GeneratedToken, PrefillToken } from '../core/request.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Metrics } from '../metrics/registry.js';
import type { Permits } from './permits.js';
import { isDeterministic, type ValidatedGenerate, type ValidationLimits } from '../validation/generate.js';
import type { FastifyRequest } from 'fastify';
import type { Preprocessor } from '../preprocess/preprocessor.js';
import { traceFinish, traceSubmission } from './trace-events.js';

export const now = () => performance.timeOrigin + performance.now();

export interface Timings {
  start: number;
  queued: number;
  batchStart: number;
  end: number;
}

export interface CollectedGeneration {
  validated: ValidatedGenerate;
  prefill: PrefillToken[];
  tokens: GeneratedToken[];
  topTokens: GeneratedToken[][];
  finish: FinishInfo;
  timings: Timings;
}

export interface GeneratorLimits extends ValidationLimits {
  maxConcurrentRequests: number;
  maxClientBatchSize: number;
}

export class Generator {
  constructor(
    readonly backend: Backend,
    readonly tokenizer: Tokenizer,
    readonly limits: GeneratorLimits,
    readonly metrics: Metrics,
    readonly permits: Permits,
    /** Tokenizing and templating for the routes, off the event loop when large. */
    readonly preprocessor: Preprocessor,
  ) {}

  start(validated: ValidatedGenerate): RequestStream {
    this.metrics.inputLength.observe(validated.inputLength);
    this.metrics.maxNewTokens.observe(validated.request.maxNewTokens);
    if (validated.request.adapter !== undefined) this.metrics.adapterRequests.inc({ adapter: validated.request.adapter });
    traceSubmission(validated);
    return this.backend.submit(validated.request);
  }

  /** A sequence finished: its metrics, and its spans when the request is traced. */
  recordSuccess(timings: Timings, finish: FinishInfo): void {
    traceFinish(finish);
    const generatedTokens = finish.generatedTokens;
    const m = this.metrics;
    m.requestSuccess.inc();
    m.requestDuration.observe((timings.end - timings.start) / 1000);
    m.validationDuration.observe((timings.queued - timings.start) / 1000);
    m.queueDuration.observe(Math.max(0, timings.batchStart - timings.queued) / 1000);
    const inference = Math.max(0, timings.end - timings.batchStart) / 1000;
    m.inferenceDuration.observe(inference);
    if (generatedTokens > 0) m.timePerToken.observe(inference / generatedTokens);
    m.generatedTokens.observe(generatedTokens);
  }
}

/** Mean token logprob of a generation: how best_of ranks candidates. */
export function meanLogprob(g: CollectedGeneration): number {
  if (g.tokens.length === 0) return -Infinity;
  return g.tokens.reduce((sum, t) => sum + t.logprob, 0) / g.tokens.length;
}

/** TGI's timing and accounting headers of a finished non-streaming generation. */
export function generationHeaders(
  computeType: string,
  characters: number,
  timings: Timings,
  inputLength: number,
  generatedTokens: number,
): Record<string, string> {
  const total = timings.end - timings.start;
  const inference = Math.max(0, timings.end - timings.batchStart);
  return {
    'x-compute-type': computeType,
    'x-compute-time': (total / 1000).toFixed(9),
    'x-compute-characters': String(characters),
    'x-total-time': String(Math.floor(total)),
    'x-validation-time': String(Math.floor(Math.max(0, timings.queued - timings.start))),
    'x-queue-time': String(Math.floor(Math.max(0, timings.batchStart - timings.queued))),
    'x-inference-time': String(Math.floor(inference)),
    'x-time-per-token': String(generatedTokens > 0 ? Math.floor(inference / generatedTokens) : 0),
    'x-prompt-tokens': String(inputLength),
    'x-generated-tokens': String(generatedTokens),
  };
}

/**
 * Tells the response cache that the response just completed may be replayed to the same request:
 * every generation in it was greedy or drew from a seed the client chose.
 */
export function markReplayable(request: FastifyRequest, validated: readonly ValidatedGenerate[]): void {
  if (validated.every(isDeterministic)) request.replayable = true;
}

/**
 * The headers of a cached response as a hit sends them: the accounting ones (compute type,
 * characters, tokens) as stored, the timings of the hit itself (all of it spent before any queue)
 * in place of those of the generation it replays.
 */
export function replayedGenerationHeaders(stored: Record<string, string>, elapsedMs: number): Record<string, string> {
  const timings: Record<string, string> = {
    'x-compute-time': (elapsedMs / 1000).toFixed(9),
    'x-total-time': String(Math.floor(elapsedMs)),
    'x-validation-time': String(Math.floor(elapsedMs)),
    'x-queue-time': '0',
    'x-inference-time': '0',
    'x-time-per-token': '0',
  };
  const headers = { ...stored };
  for (const name of Object.keys(timings)) if (name in headers) headers[name] = timings[name];
  return headers;
}

export function characterCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
