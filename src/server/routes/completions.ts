// POST /v1/completions: OpenAI's legacy completions API; several prompts, n choices each, echo,
// best_of, legacy logprobs, and `suffix` through the model's fill-in-the-middle tokens.
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CompletionRequestSchema,
  type CompletionChoiceJson,
  type CompletionJson,
  type CompletionLogprobsJson,
  type CompletionRequest,
} from '../../api/openai.js';
import { parseBody } from '../../api/parse.js';
import type { ValidatedGenerate } from '../../validation/generate.js';
import { grammarOfResponseFormat } from '../../validation/response-format.js';
import { planOpenAiGeneration } from '../../validation/openai.js';
import { validationError } from '../errors.js';
import { characterCount, meanLogprob, generationHeaders, markReplayable, type CollectedGeneration, type Generator } from '../generator.js';
import { collectGenerations, lifecycleHandler, type RouteHandler } from '../lifecycle.js';
import { cachedPromptTokens, responseModel, streamGenerations, usageOf, type OpenAiIdentity } from '../openai-common.js';
import {
  completionId,
  completionLogprobs,
  cutAtStop,
  openAiFinishReason,
  StopTextFilter,
  unixSeconds,
  type ScoredText,
} from '../openai-output.js';

/** OpenAI's default for the legacy completions API. */
const DEFAULT_COMPLETION_TOKENS = 16;
const MAX_LEGACY_LOGPROBS = 5;

export interface CompletionsRouteOptions {
  generator: Generator;
  identity: OpenAiIdentity;
}

interface Job {
  prompt: number;
  /** Index in the response: prompt * n + choice. */
  index: number | undefined;
  validated: ValidatedGenerate;
}

interface CompletionPlan {
  prompts: string[];
  jobs: Job[];
  n: number;
  bestOf: number;
  stops: string[];
  logprobs: number | undefined;
  echo: boolean;
}

export function completionsHandler(options: CompletionsRouteOptions): RouteHandler {
  const { generator, identity } = options;
  const tokenizer = generator.tokenizer;

  function withSuffix(prompt: string, suffix: string): string {
    const fim = tokenizer.fillInTheMiddle;
    if (!fim)
      throw validationError('`suffix` needs a model trained for fill-in-the-middle, and the served model has no such tokens', 'suffix');
    return `${tokenizer.tokenText(fim.prefix)}${prompt}${tokenizer.tokenText(fim.suffix)}${suffix}${tokenizer.tokenText(fim.middle)}`;
  }

  async function plan(body: CompletionRequest): Promise<CompletionPlan> {
    const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
    if (prompts.length === 0) throw validationError('Empty array detected. Do not use an empty array for the prompt.', 'prompt');
    if (prompts.length > generator.limits.maxClientBatchSize) {
      throw validationError(`Number of prompts exceeds the maximum allowed batch size of ${generator.limits.maxClientBatchSize}`, 'prompt');
    }
    const n = body.n ?? 1;
    const bestOf = body.best_of ?? n;
    if (body.best_of != null && (bestOf < n || bestOf > 128))
      throw validationError(`\`best_of\` must be >= n (${n}) and <= 128. Given: ${bestOf}`, 'best_of');
    if (body.stream && bestOf > n) throw validationError('`best_of` > `n` cannot be streamed', 'best_of');
    if (body.logprobs != null && (body.logprobs < 0 || body.logprobs > MAX_LEGACY_LOGPROBS)) {
      throw validationError(`\`logprobs\` must be >= 0 and <= ${MAX_LEGACY_LOGPROBS}. Given: ${body.logprobs}`, 'logprobs');
    }
    const echo = body.echo ?? false;
    if (echo && body.suffix != null) throw validationError('`echo` cannot be combined with `suffix`', 'echo');
    if (body.grammar != null && body.response_format != null)
      throw validationError('`grammar` and `response_format` cannot be combined', 'grammar');
    const grammar = body.grammar ?? grammarOfResponseFormat(body.response_format);
    const jobs: Job[] = [];
    let stops: string[] = [];
    for (const [p, prompt] of prompts.entries()) {
      const text = body.suffix != null ? withSuffix(prompt, body.suffix) : prompt;
      const planned = await planOpenAiGeneration(text, { ...body, n, grammar }, generator.limits, generator.preprocessor, {
        defaultMaxTokens: DEFAULT_COMPLETION_TOKENS,
        addSpecialTokens: true,
        topLogprobs: body.logprobs ?? 0,
        choices: bestOf,
        promptParam: 'prompt',
      });
      stops = planned.stop;
      planned.choices.forEach((validated, j) => {
        // Prompt logprobs are only needed to echo them; token logprobs to show them or rank best_of.
        validated.request.prefillLogprobs = echo && body.logprobs != null;
        validated.request.tokenLogprobs = body.logprobs != null || bestOf > n;
        jobs.push({ prompt: p, index: bestOf === n ? p * n + j : undefined, validated });
      });
    }
    return { prompts, jobs, n, bestOf, stops, logprobs: body.logprobs ?? undefined, echo };
  }

  function choiceLogprobs(planned: CompletionPlan, r: CollectedGeneration): CompletionChoiceJson['logprobs'] {
    if (planned.logprobs === undefined) return null;
    const generated: ScoredText[] = r.tokens
      .map((token, k) => ({ text: token.text, logprob: token.logprob, top: r.topTokens[k] }))
      .filter((_, k) => !r.tokens[k].special);
    if (!planned.echo) return completionLogprobs(generated, planned.logprobs, 0);
    const promptTokens: ScoredText[] = r.prefill.map((t) => ({ text: t.text, logprob: t.logprob }));
    return completionLogprobs([...promptTokens, ...generated], planned.logprobs, 0);
  }

  const promptTokensOf = (planned: CompletionPlan) =>
    planned.prompts.reduce((sum, _, p) => sum + planned.jobs.find((j) => j.prompt === p)!.validated.inputLength, 0);

  async function complete(planned: CompletionPlan, body: CompletionRequest, start: number, reply: FastifyReply): Promise<CompletionJson> {
    const results = await collectGenerations(
      generator,
      planned.jobs.map((job) => job.validated),
      start,
      reply,
    );
    const choices: CompletionChoiceJson[] = [];
    planned.prompts.forEach((prompt, p) => {
      const mine = results.filter((_, k) => planned.jobs[k].prompt === p);
      // best_of: keep the n choices with the highest mean token logprob.
      const kept = planned.bestOf > planned.n ? [...mine].sort((a, b) => meanLogprob(b) - meanLogprob(a)).slice(0, planned.n) : mine;
      kept.forEach((r, j) => {
        const text = cutAtStop(r.finish.generatedText, planned.stops);
        choices.push({
          index: p * planned.n + j,
          text: planned.echo ? prompt + text : text,
          logprobs: choiceLogprobs(planned, r),
          finish_reason: openAiFinishReason(r.finish.reason),
        });
      });
    });
    const promptTokens = promptTokensOf(planned);
    const completionTokens = results.reduce((sum, r) => sum + r.finish.generatedTokens, 0);
    reply.headers(
      generationHeaders(
        identity.computeType,
        planned.prompts.reduce((sum, p) => sum + characterCount(p), 0),
        results[0].timings,
        promptTokens,
        completionTokens,
      ),
    );
    markReplayable(
      reply.request,
      planned.jobs.map((job) => job.validated),
    );
    return {
      id: completionId('cmpl'),
      object: 'text_completion',
      created: unixSeconds(),
      model: responseModel(identity, body.model),
      system_fingerprint: identity.systemFingerprint,
      choices,
      usage: usageOf(
        promptTokens,
        completionTokens,
        cachedPromptTokens(results.map((r, k) => ({ prompt: planned.jobs[k].prompt, cachedTokens: r.finish.cachedTokens }))),
      ),
    };
  }

  function stream(
    planned: CompletionPlan,
    body: CompletionRequest,
    start: number,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const filters = planned.jobs.map(() => new StopTextFilter(planned.stops));
    const offsets = planned.jobs.map(() => 0);
    const indexOf = (k: number) => planned.jobs[k].index ?? k;
    const echo = (k: number, logprobs: CompletionLogprobsJson | null, send: (choices: unknown[]) => void) => {
      const prompt = planned.prompts[planned.jobs[k].prompt];
      send([{ index: indexOf(k), text: prompt, logprobs, finish_reason: null }]);
      offsets[k] = prompt.length;
    };
    return streamGenerations(
      generator,
      identity,
      {
        requests: planned.jobs.map((job) => job.validated),
        object: 'text_completion',
        idPrefix: 'cmpl',
        model: responseModel(identity, body.model),
        includeUsage: body.stream_options?.include_usage ?? false,
        promptTokens: promptTokensOf(planned),
        promptOf: (k) => planned.jobs[k].prompt,
        start,
        // Without logprobs the prompt is echoed at once; with them, when its logprobs arrive.
        opening: (send) => {
          if (planned.echo && planned.logprobs === undefined) planned.jobs.forEach((_, k) => echo(k, null, send));
        },
        onEvent: (k, event, send) => {
          if (event.kind === 'prefill') {
            if (planned.echo && planned.logprobs !== undefined) echo(k, completionLogprobs(event.tokens, planned.logprobs, 0), send);
            return;
          }
          const token = event.token;
          let text = token.special ? '' : filters[k].push(token.text);
          if (event.finish) text += filters[k].flush();
          const scored = !token.special && planned.logprobs !== undefined;
          if (text.length > 0 || scored) {
            const logprobs = scored
              ? completionLogprobs([{ text: token.text, logprob: token.logprob, top: event.topTokens }], planned.logprobs!, offsets[k])
              : null;
            send([{ index: indexOf(k), text, logprobs, finish_reason: null }]);
            offsets[k] += text.length;
          }
          if (event.finish) send([{ index: indexOf(k), text: '', logprobs: null, finish_reason: openAiFinishReason(event.finish.reason) }]);
        },
      },
      request,
      reply,
    );
  }

  return lifecycleHandler(generator, {
    family: 'openai',
    parse: (body) => parseBody(CompletionRequestSchema, body),
    streams: (body) => body.stream === true,
    sequences: (body) => (typeof body.prompt === 'string' ? 1 : Math.max(1, body.prompt.length)) * Math.max(body.n ?? 1, body.best_of ?? 1),
    plan,
    stream,
    complete,
  });
}
