// What the OpenAI routes share: the served identity, request errors as ApiErrors, the request life
// (permits, planning, stream or answer), and the streaming of several choices as one SSE response.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UsageJson } from '../api/openai.js';
import { MessageError } from '../chat/messages.js';
import { TemplateError } from '../chat/template.js';
import type { RequestEvent, RequestStream } from '../core/backend.js';
import { OpenAiContextLengthError, OpenAiFieldError } from '../validation/openai.js';
import { ValidationError, type ValidatedGenerate } from '../validation/generate.js';
import { ApiError, requestEventError, templateError, validationError } from './errors.js';
import { ClientGone, markReplayable, now, type Generator } from './generator.js';
import { completionId, unixSeconds } from './openai-output.js';
import { SseWriter } from './sse.js';
import { traceFailure } from './trace-events.js';

export type RouteHandler = (body: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface OpenAiIdentity {
  /** Reported as `model` when a request names none (or names "tgi"). */
  modelId: string;
  systemFingerprint: string;
  computeType: string;
}

export function responseModel(identity: OpenAiIdentity, requested: string | null | undefined): string {
  return requested && requested !== 'tgi' ? requested : identity.modelId;
}

/** Turns the request-level failures of planning and templating into API errors (and counts them). */
export function asApiError(error: unknown, generator: Generator): never {
  const known =
    error instanceof ApiError || error instanceof OpenAiFieldError || error instanceof OpenAiContextLengthError || error instanceof ValidationError || error instanceof MessageError || error instanceof TemplateError;
  if (!known) throw error;
  generator.metrics.fail('validation');
  if (error instanceof ApiError) throw error;
  // OpenAI's status and code for it (400, context_length_exceeded), which clients act on.
  if (error instanceof OpenAiContextLengthError) throw new ApiError(400, 'context_length_exceeded', error.message, error.param);
  if (error instanceof OpenAiFieldError) throw validationError(error.message, error.param);
  if (error instanceof ValidationError) throw validationError(error.message);
  if (error instanceof MessageError) throw validationError(error.message, error.param);
  throw templateError(error.message);
}

/** Events of several generations as they come, tagged with the generation's index. */
export async function* mergeStreams(streams: RequestStream[]): AsyncGenerator<{ index: number; event: RequestEvent }> {
  const next = (index: number) => streams[index].next().then((result) => ({ index, result }));
  const pending = new Map(streams.map((_, index) => [index, next(index)]));
  while (pending.size > 0) {
    const { index, result } = await Promise.race(pending.values());
    if (result.done) {
      pending.delete(index);
      continue;
    }
    pending.set(index, next(index));
    yield { index, event: result.value };
  }
}

/** An error after the stream has started: one OpenAI error event, then [DONE]. */
export function endStreamWithError(sse: SseWriter, error: ApiError): void {
  traceFailure(error);
  sse.send(error.toOpenAi());
  sse.send('[DONE]');
  sse.end();
}

export const usageOf = (promptTokens: number, completionTokens: number, cachedTokens: number): UsageJson => ({
  prompt_tokens: promptTokens,
  completion_tokens: completionTokens,
  total_tokens: promptTokens + completionTokens,
  prompt_tokens_details: { cached_tokens: cachedTokens },
});

/**
 * Prompt tokens the prefix cache served, as `usage` counts prompts: once per prompt however many
 * choices ran it, so a prompt counts the fewest cached tokens of its choices.
 */
export function cachedPromptTokens(finished: { prompt: number; cachedTokens: number }[]): number {
  const fewest = new Map<number, number>();
  for (const { prompt, cachedTokens } of finished) fewest.set(prompt, Math.min(fewest.get(prompt) ?? Infinity, cachedTokens));
  let total = 0;
  for (const cached of fewest.values()) total += cached;
  return total;
}

type Send = (choices: unknown[]) => void;
export type GenerationEvent = Exclude<RequestEvent, { kind: 'error' }>;

export interface StreamSpec {
  requests: ValidatedGenerate[];
  object: 'chat.completion.chunk' | 'text_completion';
  idPrefix: 'chatcmpl' | 'cmpl';
  model: string;
  includeUsage: boolean;
  promptTokens: number;
  /** Which prompt generation `k` runs (completions' prompt arrays); none: all run one prompt. */
  promptOf?: (k: number) => number;
  start: number;
  /** Chunks sent before the first token (chat's role chunks, completions' echo). */
  opening?: (send: Send) => void;
  /** Sends the chunks of one event of generation `k`. */
  onEvent: (k: number, event: GenerationEvent, send: Send) => void;
}

/**
 * Streams several generations as one OpenAI SSE response: the chunk envelope, cancellation when
 * the client leaves, in-band errors, the usage chunk and [DONE]. The route shapes the choices.
 */
export async function streamGenerations(generator: Generator, identity: OpenAiIdentity, spec: StreamSpec, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.hijack();
  const sse = new SseWriter(reply, { 'x-compute-type': identity.computeType });
  const id = completionId(spec.idPrefix);
  const created = unixSeconds();
  const envelope = (choices: unknown[], usage: UsageJson | null) => ({
    id,
    object: spec.object,
    created,
    model: spec.model,
    system_fingerprint: identity.systemFingerprint,
    choices,
    ...(spec.includeUsage ? { usage } : {}),
  });
  const send: Send = (choices) => sse.send(envelope(choices, null));
  const queued = now();
  const streams = spec.requests.map((v) => generator.start(v));
  const cancelAll = () => streams.forEach((s) => s.cancel());
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) cancelAll();
  });
  let completionTokens = 0;
  let finished = 0;
  const cached: { prompt: number; cachedTokens: number }[] = [];
  try {
    spec.opening?.(send);
    for await (const { index, event } of mergeStreams(streams)) {
      if (event.kind === 'error') {
        generator.metrics.fail('generation');
        cancelAll();
        return endStreamWithError(sse, requestEventError(event));
      }
      spec.onEvent(index, event, send);
      if (event.kind === 'token' && event.finish) {
        finished++;
        completionTokens += event.finish.generatedTokens;
        cached.push({ prompt: spec.promptOf?.(index) ?? 0, cachedTokens: event.finish.cachedTokens });
        generator.recordSuccess({ start: spec.start, queued, batchStart: event.finish.startedAt, end: now() }, event.finish);
      }
    }
    if (finished < streams.length) {
      if (sse.isClosed) {
        generator.metrics.fail('dropped');
        request.log.debug('client disconnected from the stream');
        return;
      }
      generator.metrics.fail('incomplete');
      return endStreamWithError(sse, new ApiError(500, 'incomplete_generation_stream', 'Incomplete generation stream'));
    }
    if (spec.includeUsage) sse.send(envelope([], usageOf(spec.promptTokens, completionTokens, cachedPromptTokens(cached))));
    sse.send('[DONE]');
    markReplayable(request, spec.requests);
  } finally {
    sse.end();
  }
}

export interface HandlerSpec<Body, Plan> {
  parse(body: unknown): Body;
  /** Sequences the request will run, for the concurrency permits. */
  sequences(body: Body): number;
  plan(body: Body): Promise<Plan>;
  stream(plan: Plan, body: Body, start: number, request: FastifyRequest, reply: FastifyReply): Promise<void>;
  complete(plan: Plan, body: Body, start: number, reply: FastifyReply): Promise<unknown>;
}

/** The request life of an OpenAI route: parse, permits, plan (errors as 422s), then stream or answer. */
export function openAiHandler<Body extends { stream?: boolean | null }, Plan>(generator: Generator, spec: HandlerSpec<Body, Plan>): RouteHandler {
  return async (rawBody, request, reply) => {
    const start = now();
    generator.metrics.requestCount.inc();
    const body = spec.parse(rawBody);
    const release = generator.acquire(spec.sequences(body));
    try {
      let planned: Plan;
      try {
        planned = await spec.plan(body);
      } catch (error) {
        asApiError(error, generator);
      }
      if (body.stream) return await spec.stream(planned, body, start, request, reply);
      return await spec.complete(planned, body, start, reply);
    } catch (error) {
      if (error instanceof ClientGone) return reply.hijack();
      throw error;
    } finally {
      release();
    }
  };
}
