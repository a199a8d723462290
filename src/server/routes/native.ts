// TGI's native generation routes: POST /generate, /generate_stream and / (compat).
import type { FastifyInstance } from 'fastify';
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
import { checkNativeParameters, validateGenerate, type ValidatedGenerate } from '../../validation/generate.js';
import { markdownImages } from '../../preprocess/vision.js';
import { characterCount, meanLogprob, generationHeaders, markReplayable, type CollectedGeneration, type Generator } from '../generator.js';
import { collectGenerations, lifecycleHandler, streamEvents, type RouteHandler } from '../lifecycle.js';
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
  compat: RouteHandler;
}

/** A native body, parsed by its route (before the request is counted, as TGI counts well-formed ones). */
interface NativeBody {
  inputs: string;
  parameters?: GenerateParameters | null;
  stream?: boolean | null;
}

interface NativePlan {
  /** The request validated once; best_of's other sequences are copies drawing from their own seeds. */
  validated: ValidatedGenerate[];
}

interface NativeFace {
  streams: (body: NativeBody) => boolean;
  /** return_full_text when the request does not say. */
  returnFullText: boolean;
  /** POST / answers a whole generation as a one-element array. */
  asArray: boolean;
}

export function registerNativeRoutes(app: FastifyInstance, options: NativeRouteOptions): NativeHandlers {
  const { generator, computeType } = options;

  function describe(r: CollectedGeneration): DetailsJson {
    return {
      finish_reason: r.finish.reason,
      generated_tokens: r.finish.generatedTokens,
      seed: r.validated.sampled ? seedJson(r.validated.request.sampling.seed) : null,
      prefill: r.validated.decoderInputDetails ? r.prefill : [],
      tokens: r.tokens.map(token),
    };
  }

  const sequencesOf = (body: NativeBody, streaming: boolean) => (streaming ? 1 : Math.max(1, body.parameters?.best_of ?? 1));

  function handler(face: NativeFace): RouteHandler {
    const returnFullText = (body: NativeBody) => body.parameters?.return_full_text ?? face.returnFullText;
    return lifecycleHandler<NativeBody, NativePlan>(generator, {
      family: 'native',
      parse: (body) => body as NativeBody,
      streams: face.streams,
      check: (body, streaming) => checkNativeParameters(body.parameters ?? undefined, generator.limits, streaming),
      sequences: (body) => sequencesOf(body, face.streams(body)),
      // TGI's stream has begun before anything is checked: even an overload is its one event.
      earlyStream: (body) => ({ 'x-compute-type': computeType, 'x-compute-characters': String(characterCount(body.inputs)) }),

      async plan(body) {
        const parameters = body.parameters ?? undefined;
        const streaming = face.streams(body);
        const sequences = sequencesOf(body, streaming);
        // Validated (tokenized, grammar compiled) once; each best_of sequence draws from its own seed
        // (best_of > 1 forbids a seed, so every one is random).
        // TGI's images in `inputs` (markdown), when the model is served with a projector.
        const vision = generator.preprocessor.vision;
        const markdown = vision ? markdownImages(body.inputs, vision.info.marker) : undefined;
        const tokenizer =
          vision && markdown && markdown.sources.length > 0
            ? vision.tokenizer(generator.preprocessor, markdown.sources, 'inputs')
            : generator.preprocessor;
        const first = await validateGenerate(markdown?.text ?? body.inputs, parameters ?? {}, generator.limits, tokenizer, {
          defaultDoSample: parameters === undefined,
        });
        if (streaming) return { validated: [first] };
        // Token logprobs are shown in details and rank best_of; otherwise nobody reads them.
        first.request.tokenLogprobs = first.details || first.decoderInputDetails || sequences > 1;
        const copies = Array.from({ length: sequences - 1 }, () => ({
          ...first,
          request: { ...first.request, sampling: { ...first.request.sampling, seed: randomSeed() } },
        }));
        return { validated: [first, ...copies] };
      },

      stream(planned, body, start, request, reply, sse) {
        const validated = planned.validated[0];
        const prefix = returnFullText(body) ? body.inputs : '';
        let index = 0;
        return streamEvents(
          generator,
          sse!,
          {
            family: 'native',
            requests: planned.validated,
            start,
            onEvent: (_, event) => {
              index++;
              if (event.kind === 'prefill') return;
              const message: StreamResponseJson = {
                index,
                token: token(event.token),
                ...(event.topTokens ? { top_tokens: event.topTokens.map(token) } : {}),
                generated_text: null,
                details: null,
              };
              if (event.finish) {
                message.generated_text = prefix + event.finish.generatedText;
                if (validated.details) {
                  message.details = {
                    finish_reason: event.finish.reason,
                    generated_tokens: event.finish.generatedTokens,
                    seed: validated.sampled ? seedJson(validated.request.sampling.seed) : null,
                    input_length: event.finish.inputLength,
                  };
                }
              }
              sse!.send(message);
            },
          },
          request,
          reply,
        );
      },

      async complete(planned, body, start, reply) {
        const results = await collectGenerations(generator, planned.validated, start, reply);
        let best = 0;
        for (let i = 1; i < results.length; i++) if (meanLogprob(results[i]) > meanLogprob(results[best])) best = i;
        const winner = results[best];
        const prefix = returnFullText(body) ? body.inputs : '';
        const response: GenerateResponseJson = { generated_text: prefix + winner.finish.generatedText };
        const v = winner.validated;
        if (v.details || v.decoderInputDetails) {
          const details: DetailsJson = describe(winner);
          if (v.request.topNTokens > 0) details.top_tokens = winner.topTokens.map((step) => step.map(token));
          if (results.length > 1) {
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
        reply.headers(
          generationHeaders(
            computeType,
            characterCount(body.inputs),
            winner.timings,
            winner.finish.inputLength,
            winner.finish.generatedTokens,
          ),
        );
        markReplayable(reply.request, planned.validated);
        return face.asArray ? [response] : response;
      },
    });
  }

  const native = { config: { family: 'native' as const } };
  const generate = handler({ streams: () => false, returnFullText: false, asArray: false });
  const generateStream = handler({ streams: () => true, returnFullText: false, asArray: false });
  const compatHandler = handler({ streams: (body) => body.stream === true, returnFullText: options.compatReturnFullText, asArray: true });

  app.post('/generate', native, async (request, reply) => generate(parseBody(GenerateRequestSchema, request.body), request, reply));
  app.post('/generate_stream', native, async (request, reply) =>
    generateStream(parseBody(GenerateRequestSchema, request.body), request, reply),
  );
  const compat: RouteHandler = async (rawBody, request, reply) =>
    compatHandler(parseBody(CompatGenerateRequestSchema, rawBody), request, reply);
  app.post('/', native, (request, reply) => compat(request.body, request, reply));
  return { compat };
}
