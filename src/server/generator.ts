// Runs validated requests on the engine for the route handlers: one stream of events, or a whole
// collected generation, with timings, metrics and (when traced) spans. Route families (native,
// OpenAI) share it.
import type { Backend, RequestStream } from '../core/backend.js';
import type { FinishInfo, GeneratedToken, PrefillToken } from '../core/request.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Metrics } from '../metrics/registry.js';
import type { Permits } from './permits.js';
import { isDeterministic, type ValidatedGenerate, type ValidationLimits } from '../validation/generate.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, overloadedError, requestEventError, validationError } from './errors.js';
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

/** The client went away before the generation finished. */
export class ClientGone extends Error {}

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

  /** Permits for `count` sequences, or 429 `Model is overloaded` (422 if it can never fit); returns their release. */
  acquire(count: number): () => void {
    if (count > this.permits.capacity) {
      // No amount of waiting lets it run: a 429 would be retried forever.
      this.metrics.fail('validation');
      throw validationError(`this request needs ${count} sequences at once (prompts x choices), and this server runs at most ${this.permits.capacity} (--max-concurrent-requests)`);
    }
    const release = this.permits.tryAcquire(count);
    if (!release) {
      this.metrics.fail('overloaded');
      throw overloadedError();
    }
    return release;
  }

  start(validated: ValidatedGenerate): RequestStream {
    this.metrics.inputLength.observe(validated.inputLength);
    this.metrics.maxNewTokens.observe(validated.request.maxNewTokens);
    if (validated.request.adapter !== undefined) this.metrics.adapterRequests.inc({ adapter: validated.request.adapter });
    traceSubmission(validated);
    return this.backend.submit(validated.request);
  }

  /** Runs to the end; aborting `cancel` (the client left, a sibling failed) stops it at once. */
  async collect(validated: ValidatedGenerate, start: number, cancel: AbortSignal): Promise<CollectedGeneration> {
    const queued = now();
    const stream = this.start(validated);
    let gone = false;
    const onAbort = () => {
      gone = true;
      stream.cancel();
    };
    if (cancel.aborted) onAbort();
    else cancel.addEventListener('abort', onAbort, { once: true });
    let prefill: PrefillToken[] = [];
    const tokens: GeneratedToken[] = [];
    const topTokens: GeneratedToken[][] = [];
    for await (const event of stream) {
      if (event.kind === 'prefill') prefill = event.tokens;
      else if (event.kind === 'error') {
        this.metrics.fail('generation');
        throw requestEventError(event);
      } else {
        tokens.push(event.token);
        if (event.topTokens) topTokens.push(event.topTokens);
        if (event.finish) {
          const timings = { start, queued, batchStart: event.finish.startedAt, end: now() };
          this.recordSuccess(timings, event.finish);
          return { validated, prefill, tokens, topTokens, finish: event.finish, timings };
        }
      }
    }
    if (gone) {
      this.metrics.fail('dropped');
      throw new ClientGone();
    }
    this.metrics.fail('incomplete');
    throw new ApiError(500, 'incomplete_generation', 'Incomplete generation');
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

/** Aborted when the client disconnects before its response was written. */
export function clientGone(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

/** TGI's timing and accounting headers of a finished non-streaming generation. */
export function generationHeaders(computeType: string, characters: number, timings: Timings, inputLength: number, generatedTokens: number): Record<string, string> {
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
