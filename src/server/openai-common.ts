// What the OpenAI routes share: the served identity, usage, and the streaming of several choices as
// one SSE response (the request's life is the lifecycle's, as for every face).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UsageJson } from '../api/openai.js';
import type { ValidatedGenerate } from '../validation/generate.js';
import type { Generator } from './generator.js';
import { streamEvents, type GenerationEvent } from './lifecycle.js';
import { completionId, unixSeconds } from './openai-output.js';
import { SseWriter } from './sse.js';

export interface OpenAiIdentity {
  /** Reported as `model` when a request names none (or names "tgi"). */
  modelId: string;
  systemFingerprint: string;
  computeType: string;
}

export function responseModel(identity: OpenAiIdentity, requested: string | null | undefined): string {
  return requested && requested !== 'tgi' ? requested : identity.modelId;
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
 * Streams several generations as one OpenAI SSE response: the chunk envelope around the choices the
 * route shapes, and the usage chunk; the lifecycle does the rest (cancellation, errors, [DONE]).
 */
export function streamGenerations(
  generator: Generator,
  identity: OpenAiIdentity,
  spec: StreamSpec,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
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
  let completionTokens = 0;
  const cached: { prompt: number; cachedTokens: number }[] = [];
  return streamEvents(
    generator,
    sse,
    {
      family: 'openai',
      requests: spec.requests,
      start: spec.start,
      opening: () => spec.opening?.(send),
      onEvent: (index, event) => {
        spec.onEvent(index, event, send);
        if (event.kind === 'token' && event.finish) {
          completionTokens += event.finish.generatedTokens;
          cached.push({ prompt: spec.promptOf?.(index) ?? 0, cachedTokens: event.finish.cachedTokens });
        }
      },
      closing: () => {
        if (spec.includeUsage) sse.send(envelope([], usageOf(spec.promptTokens, completionTokens, cachedPromptTokens(cached))));
      },
    },
    request,
    reply,
  );
}
