// TGI's native generation routes: POST /generate, /generate_stream and / (compat).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CompatGenerateRequestSchema,
  GenerateRequestSchema,
  type BestOfSequenceJson,
  type DetailsJson,
  type GenerateParameters,
  type GenerateResponseJson,
  type StreamResponseJson,
  type TokenJson,
} from '../../api/native.js';
import { parseBody } from '../../api/parse.js';
import type { GeneratedToken } from '../../core/request.js';
import { validateBestOf, validateGenerate, ValidationError, type ValidatedGenerate } from '../../validation/generate.js';
import { ApiError, overloadedError, requestEventError, validationError } from '../errors.js';
import { characterCount, clientGone, meanLogprob, ClientGone, generationHeaders, markReplayable, now, type CollectedGeneration, type Generator } from '../generator.js';
import { SseWriter } from '../sse.js';
import { traceFailure } from '../trace-events.js';
import { randomSeed, seedJson } from '../../sampling/random.js';

export interface NativeRouteOptions {
  generator: Generator;
  computeType: string;
  /** POST / defaults return_full_text from the model's pipeline tag: true for text-generation or unknown. */
  compatReturnFullText: boolean;
}

// Logprobs are f32 in TGI's responses.
const token = (t: GeneratedToken): TokenJson => ({ id: t.id, text: t.text, logprob: Math.fround(t.logprob), special: t.special });


export interface NativeHandlers {
  /** POST / (a generate request with an optional `stream` flag); /invocations reuses it. */
  compat: (body: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

export function registerNativeRoutes(app: FastifyInstance, options: NativeRouteOptions): NativeHandlers {
  const { generator, computeType } = options;
  const { metrics } = generator;

  async function validate(inputs: string, parameters: GenerateParameters | undefined): Promise<ValidatedGenerate> {
    try {
      return await validateGenerate(inputs, parameters ?? {}, generator.limits, generator.preprocessor, { defaultDoSample: parameters === undefined });
    } catch (error) {
      if (error instanceof ValidationError) {
        metrics.fail('validation');
        throw validationError(error.message);
      }
      throw error;
    }
  }

  async function generate(inputs: string, parameters: GenerateParameters | undefined, reply: FastifyReply, returnFullText: boolean): Promise<GenerateResponseJson | undefined> {
    const start = now();
    metrics.requestCount.inc();
    const bestOf = parameters?.best_of ?? 1;
    if (bestOf > 1) {
      try {
        validateBestOf(bestOf, generator.limits);
      } catch (error) {
        if (error instanceof ValidationError) {
          metrics.fail('validation');
          throw validationError(error.message);
        }
        throw error;
      }
    }
    const sequences = Math.max(1, bestOf);
    const release = generator.acquire(sequences);
    try {
      // Validated (tokenized, grammar compiled) once; each best_of sequence draws from its own seed
      // (best_of > 1 forbids a seed, so every one is random).
      const first = await validate(inputs, parameters);
      // Token logprobs are shown in details and rank best_of; otherwise nobody reads them.
      first.request.tokenLogprobs = first.details || first.decoderInputDetails || sequences > 1;
      const validated = [first, ...Array.from({ length: sequences - 1 }, () => ({ ...first, request: { ...first.request, sampling: { ...first.request.sampling, seed: randomSeed() } } }))];
      const cancel = clientGone(reply);
      const results = await Promise.all(validated.map((v) => generator.collect(v, start, cancel.signal))).catch((error: unknown) => {
        // One best_of sequence failed: the others are of no use any more.
        cancel.abort();
        throw error;
      });
      let best = 0;
      for (let i = 1; i < results.length; i++) if (meanLogprob(results[i]) > meanLogprob(results[best])) best = i;
      const winner = results[best];
      const prefix = returnFullText ? inputs : '';
      const response: GenerateResponseJson = { generated_text: prefix + winner.finish.generatedText };
      const v = winner.validated;
      if (v.details || v.decoderInputDetails) {
        const details: DetailsJson = describe(winner);
        if (v.request.topNTokens > 0) details.top_tokens = winner.topTokens.map((step) => step.map(token));
        if (sequences > 1) {
          details.best_of_sequences = results
            .filter((_, i) => i !== best)
            .map((r): BestOfSequenceJson => {
              const d = describe(r);
              const sequence: BestOfSequenceJson = { generated_text: prefix + r.finish.generatedText, ...d };
              if (r.topTokens.length > 0) sequence.top_tokens = r.topTokens.map((step) => step.map(token));
              return sequence;
            });
        }
        response.details = details;
      }
      reply.headers(generationHeaders(computeType, characterCount(inputs), winner.timings, winner.finish.inputLength, winner.finish.generatedTokens));
      markReplayable(reply.request, validated);
      return response;
    } finally {
      release();
    }
  }

  function describe(r: CollectedGeneration): DetailsJson {
    return {
      finish_reason: r.finish.reason,
      generated_tokens: r.finish.generatedTokens,
      seed: r.validated.sampled ? seedJson(r.validated.request.sampling.seed) : null,
      prefill: r.validated.decoderInputDetails ? r.prefill : [],
      tokens: r.tokens.map(token),
    };
  }

  async function stream(inputs: string, parameters: GenerateParameters | undefined, request: FastifyRequest, reply: FastifyReply, returnFullText: boolean): Promise<void> {
    const start = now();
    metrics.requestCount.inc();
    reply.hijack();
    const sse = new SseWriter(reply, { 'x-compute-type': computeType, 'x-compute-characters': String(characterCount(inputs)) });
    const fail = (error: ApiError) => {
      traceFailure(error);
      sse.send(error.toJSON());
      sse.end();
    };
    if (parameters?.best_of != null && parameters.best_of !== 1) {
      metrics.fail('validation');
      return fail(validationError('`best_of` != 1 is not supported when streaming tokens'));
    }
    if (parameters?.decoder_input_details) {
      metrics.fail('validation');
      return fail(validationError('`decoder_input_details` == true is not supported when streaming tokens'));
    }
    const release = generator.permits.tryAcquire(1);
    if (!release) {
      metrics.fail('overloaded');
      return fail(overloadedError());
    }
    try {
      let validated: ValidatedGenerate;
      try {
        validated = await validate(inputs, parameters);
      } catch (error) {
        if (error instanceof ApiError) return fail(error);
        throw error;
      }
      const queued = now();
      const events = generator.start(validated);
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) events.cancel();
      });
      let index = 0;
      for await (const event of events) {
        index++;
        if (event.kind === 'prefill') continue;
        if (event.kind === 'error') {
          metrics.fail('generation');
          return fail(requestEventError(event));
        }
        const message: StreamResponseJson = {
          index,
          token: token(event.token),
          ...(event.topTokens ? { top_tokens: event.topTokens.map(token) } : {}),
          generated_text: null,
          details: null,
        };
        if (event.finish) {
          message.generated_text = (returnFullText ? inputs : '') + event.finish.generatedText;
          if (validated.details) {
            message.details = {
              finish_reason: event.finish.reason,
              generated_tokens: event.finish.generatedTokens,
              seed: validated.sampled ? seedJson(validated.request.sampling.seed) : null,
              input_length: event.finish.inputLength,
            };
          }
          generator.recordSuccess({ start, queued, batchStart: event.finish.startedAt, end: now() }, event.finish);
          markReplayable(request, [validated]);
        }
        sse.send(message);
        if (event.finish) return sse.end();
      }
      if (sse.isClosed) {
        metrics.fail('dropped');
        request.log.debug('client disconnected from the stream');
        return;
      }
      metrics.fail('incomplete');
      fail(new ApiError(500, 'incomplete_generation_stream', 'Incomplete generation stream'));
    } finally {
      release();
      sse.end();
    }
  }

  const native = { config: { family: 'native' as const } };

  app.post('/generate', native, async (request, reply) => {
    const body = parseBody(GenerateRequestSchema, request.body);
    try {
      return await generate(body.inputs, body.parameters, reply, body.parameters?.return_full_text ?? false);
    } catch (error) {
      if (error instanceof ClientGone) return reply.hijack();
      throw error;
    }
  });

  app.post('/generate_stream', native, async (request, reply) => {
    const body = parseBody(GenerateRequestSchema, request.body);
    await stream(body.inputs, body.parameters, request, reply, body.parameters?.return_full_text ?? false);
  });

  const compat = async (rawBody: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const body = parseBody(CompatGenerateRequestSchema, rawBody);
    const returnFullText = body.parameters?.return_full_text ?? options.compatReturnFullText;
    if (body.stream) return stream(body.inputs, body.parameters, request, reply, returnFullText);
    try {
      return [await generate(body.inputs, body.parameters, reply, returnFullText)];
    } catch (error) {
      if (error instanceof ClientGone) return reply.hijack();
      throw error;
    }
  };
  app.post('/', native, (request, reply) => compat(request.body, request, reply));
  return { compat };
}
