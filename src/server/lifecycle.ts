// The life of a generation request, one for every face (TGI's native routes, OpenAI's chat and
// completions): the request count, the concurrency permits, request-level errors, then a stream
// or a whole answer, cancellation when the client leaves, the failure accounting, and how a stream
// ends. A face supplies only its translation in (parse, check, plan) and out (stream, complete).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestEvent, RequestStream } from '../core/backend.js';
import type { GeneratedToken, PrefillToken } from '../core/request.js';
import type { ValidatedGenerate } from '../validation/generate.js';
import { ApiError, overloadedError, requestError, requestEventError, validationError, type ErrorFamily } from './errors.js';
import { markReplayable, now, type CollectedGeneration, type Generator } from './generator.js';
import { SseWriter } from './sse.js';
import { traceFailure } from './trace-events.js';

export type RouteHandler = (body: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** What a generation's stream yields but its error, which the lifecycle answers itself. */
export type GenerationEvent = Exclude<RequestEvent, { kind: 'error' }>;

/** The client went away before the generation finished. */
class ClientGone extends Error {}

/** What a new API face provides: its translation in and out; the lifecycle does the rest. */
export interface FaceSpec<Body, Plan> {
  /** Error bodies and stream framing (native: TGI's; openai: OpenAI's, streams ending with [DONE]). */
  family: ErrorFamily;
  /** The body, checked against the face's schema (errors are 422 BodyShapeErrors, not counted). */
  parse(body: unknown): Body;
  /** Whether the response is a stream of server-sent events. */
  streams(body: Body): boolean;
  /** Checks of the body alone, before the permits are taken (their errors count as validation failures). */
  check?(body: Body, streaming: boolean): void;
  /** Sequences the request will run, for the concurrency permits. */
  sequences(body: Body): number;
  /** Tokenizing, templating, validation: request-level errors become the family's 422 (or 400). */
  plan(body: Body): Promise<Plan>;
  /**
   * The headers of a stream opened as soon as the request is counted, before the permits and the
   * plan, whose errors are then sent in-band (TGI's /generate_stream). Absent: the stream opens
   * after planning, and the errors before it are HTTP errors.
   */
  earlyStream?(body: Body): Record<string, string>;
  /** Streams the generations, through `streamEvents`; `sse` is the stream when it opened early. */
  stream(plan: Plan, body: Body, start: number, request: FastifyRequest, reply: FastifyReply, sse?: SseWriter): Promise<void>;
  /** The whole answer, from `collectGenerations`. */
  complete(plan: Plan, body: Body, start: number, reply: FastifyReply): Promise<unknown>;
}

/** The route handler of a face: count, parse, check, permits, plan, then stream or answer. */
export function lifecycleHandler<Body, Plan>(generator: Generator, spec: FaceSpec<Body, Plan>): RouteHandler {
  return async (rawBody, request, reply) => {
    const start = now();
    generator.metrics.requestCount.inc();
    const body = spec.parse(rawBody);
    const streaming = spec.streams(body);
    const headers = streaming ? spec.earlyStream?.(body) : undefined;
    let sse: SseWriter | undefined;
    if (headers) {
      reply.hijack();
      sse = new SseWriter(reply, headers);
    }
    let release: (() => void) | undefined;
    try {
      let planned: Plan;
      try {
        if (spec.check) counted(generator, () => spec.check!(body, streaming));
        release = acquire(generator, spec.sequences(body));
        planned = await countedAsync(generator, () => spec.plan(body));
      } catch (error) {
        if (sse && error instanceof ApiError) return endStreamWithError(sse, spec.family, error);
        throw error;
      }
      if (streaming) return await spec.stream(planned, body, start, request, reply, sse);
      return await spec.complete(planned, body, start, reply);
    } catch (error) {
      if (error instanceof ClientGone) return reply.hijack();
      throw error;
    } finally {
      release?.();
      sse?.end();
    }
  };
}

/** Permits for `count` sequences, or 429 `Model is overloaded` (422 if it can never fit); returns their release. */
function acquire(generator: Generator, count: number): () => void {
  const { permits, metrics } = generator;
  if (count > permits.capacity) {
    // No amount of waiting lets it run: a 429 would be retried forever.
    metrics.fail('validation');
    throw validationError(
      `this request needs ${count} sequences at once (prompts x choices), and this server runs at most ${permits.capacity} (--max-concurrent-requests)`,
    );
  }
  const release = permits.tryAcquire(count);
  if (!release) {
    metrics.fail('overloaded');
    throw overloadedError();
  }
  return release;
}

/** Runs a check; a request-level error it throws is counted and answered as the family's ApiError. */
function counted<T>(generator: Generator, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw countedError(generator, error);
  }
}

/** Runs a step of preparing a request (rendering, planning); a request-level error it throws is counted and answered as an ApiError. */
export async function countedAsync<T>(generator: Generator, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw countedError(generator, error);
  }
}

function countedError(generator: Generator, error: unknown): unknown {
  const answer = requestError(error);
  if (!answer) return error;
  generator.metrics.fail('validation');
  return answer;
}

/** Calls `cancel` when the client disconnects before its response was written: the one place a request watches its connection. */
function cancelOnClose(reply: FastifyReply, cancel: () => void): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) cancel();
  });
}

/**
 * Runs generations to their ends for a whole answer. The client leaving cancels them all at once,
 * and so does one of them failing (the others are of no use then).
 */
export async function collectGenerations(
  generator: Generator,
  validated: readonly ValidatedGenerate[],
  start: number,
  reply: FastifyReply,
): Promise<CollectedGeneration[]> {
  const controller = new AbortController();
  cancelOnClose(reply, () => controller.abort());
  return Promise.all(validated.map((v) => collect(generator, v, start, controller.signal))).catch((error: unknown) => {
    controller.abort();
    throw error;
  });
}

async function collect(
  generator: Generator,
  validated: ValidatedGenerate,
  start: number,
  cancel: AbortSignal,
): Promise<CollectedGeneration> {
  const queued = now();
  const stream = generator.start(validated);
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
      generator.metrics.fail('generation');
      throw requestEventError(event);
    } else {
      tokens.push(event.token);
      if (event.topTokens) topTokens.push(event.topTokens);
      if (event.finish) {
        const timings = { start, queued, batchStart: event.finish.startedAt, end: now() };
        generator.recordSuccess(timings, event.finish);
        return { validated, prefill, tokens, topTokens, finish: event.finish, timings };
      }
    }
  }
  if (gone) {
    generator.metrics.fail('dropped');
    throw new ClientGone();
  }
  generator.metrics.fail('incomplete');
  throw new ApiError(500, 'incomplete_generation', 'Incomplete generation');
}

/** Events of several generations as they come, tagged with the generation's index. */
async function* mergeStreams(streams: RequestStream[]): AsyncGenerator<{ index: number; event: RequestEvent }> {
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

/** The marker a family's stream ends with, after its last event (an error event included). */
const END_MARKER: Record<ErrorFamily, string | undefined> = { native: undefined, openai: '[DONE]' };

/** An error after the stream has started: the family's error event, then its end marker. */
function endStreamWithError(sse: SseWriter, family: ErrorFamily, error: ApiError): void {
  traceFailure(error);
  sse.send(error.bodyFor(family));
  const marker = END_MARKER[family];
  if (marker) sse.send(marker);
  sse.end();
}

export interface EventStreamSpec {
  family: ErrorFamily;
  requests: readonly ValidatedGenerate[];
  start: number;
  /** Sent before the first event (chat's role chunks, completions' echo). */
  opening?: () => void;
  /** Sends what one event of generation `k` shows. */
  onEvent: (k: number, event: GenerationEvent) => void;
  /** Sent once every generation has finished, before the end marker (OpenAI's usage chunk). */
  closing?: () => void;
}

/**
 * Streams several generations on `sse`: cancellation when the client leaves, the in-band error
 * event and end marker when one fails, the metrics of each finish, the end marker after the last.
 */
export async function streamEvents(
  generator: Generator,
  sse: SseWriter,
  spec: EventStreamSpec,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const queued = now();
  const streams = spec.requests.map((v) => generator.start(v));
  const cancelAll = () => streams.forEach((s) => s.cancel());
  cancelOnClose(reply, cancelAll);
  let finished = 0;
  try {
    spec.opening?.();
    for await (const { index, event } of mergeStreams(streams)) {
      if (event.kind === 'error') {
        generator.metrics.fail('generation');
        cancelAll();
        return endStreamWithError(sse, spec.family, requestEventError(event));
      }
      spec.onEvent(index, event);
      if (event.kind === 'token' && event.finish) {
        finished++;
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
      return endStreamWithError(sse, spec.family, new ApiError(500, 'incomplete_generation_stream', 'Incomplete generation stream'));
    }
    spec.closing?.();
    const marker = END_MARKER[spec.family];
    if (marker) sse.send(marker);
    markReplayable(request, spec.requests);
  } finally {
    sse.end();
  }
}
