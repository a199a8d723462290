// OpenAI request fields -> the engine's generation request. OpenAI semantics where TGI's differ
// (see the README's OpenAI API section): temperature 0 is greedy, top_p 1 is no filtering, presence
// and frequency penalties are additive over generated tokens, logit_bias is honoured, n choices are independent.
import type { GenerateParameters } from '../api/native.js';
import type { SamplingParams } from '../sampling/params.js';
import { randomSeed } from '../sampling/random.js';
import { validateGenerate, ValidationError, type TextTokenizer, type ValidatedGenerate, type ValidationLimits } from './generate.js';
import { ContextLengthError } from './validation-error.js';
import { DomainError } from '../core/errors.js';

/** A rule of the OpenAI API broken by a request field. */
export class OpenAiFieldError extends DomainError {
  declare readonly param: string;

  constructor(param: string, message: string) {
    super('validation', message, param);
  }
}

export interface OpenAiSamplingFields {
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  seed?: bigint | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  /** A list is TGI's form of the field, which TGI ignores: so does this server. */
  logit_bias?: Record<string, number> | number[] | null;
  top_k?: number | null;
  repetition_penalty?: number | null;
  typical_p?: number | null;
  /** A TGI-style grammar (`response_format` of type regex). */
  grammar?: GenerateParameters['grammar'];
  /** A loaded LoRA adapter's id selects it, as in vLLM; any other name is the base model. */
  model?: string | null;
  /** An extension: the adapter, as the native routes' parameter. */
  adapter_id?: string | null;
}

/**
 * A prompt that, with the completion asked for, does not fit the model's context: OpenAI's
 * `context_length_exceeded`, which clients read to trim a conversation.
 */
class OpenAiContextLengthError extends DomainError {
  declare readonly param: string;

  constructor(param: string, message: string) {
    super('context_length', message, param);
  }
}

const MAX_CHOICES = 128;
const MAX_SEED = 1n << 64n;

function inRange(param: string, value: number | null | undefined, min: number, max: number): void {
  if (value != null && !(value >= min && value <= max))
    throw new OpenAiFieldError(param, `\`${param}\` must be >= ${min} and <= ${max}. Given: ${value}`);
}

export interface OpenAiGenerationPlan {
  /** One validated request per choice. */
  choices: ValidatedGenerate[];
  stop: string[];
}

export interface PlanOptions {
  /** Default when max_tokens is absent (undefined: up to max_total_tokens). */
  defaultMaxTokens?: number;
  addSpecialTokens: boolean;
  topLogprobs: number;
  choices: number;
  extraStop?: string[];
  /** The field the prompt came in, named by context-length errors. */
  promptParam: 'messages' | 'prompt';
  /** The field the request gave the completion length in (default `max_tokens`). */
  maxTokensParam?: 'max_tokens' | 'max_completion_tokens';
}

/** TGI's length rules broken, told with the OpenAI field names. */
function contextLengthError(error: ContextLengthError, fields: OpenAiSamplingFields, options: PlanOptions): OpenAiContextLengthError {
  const { inputLength, maxTotalTokens, maxInputTokens } = error.length;
  const what = options.promptParam;
  const prompt = `The ${what} ${what === 'messages' ? 'come' : 'comes'} to ${inputLength} tokens`;
  if (inputLength > maxInputTokens || inputLength >= maxTotalTokens) {
    return new OpenAiContextLengthError(
      what,
      `${prompt}, more than this model's context allows a prompt: ${maxTotalTokens} tokens in all, of which at most ${maxInputTokens} for the prompt. Shorten the ${what}.`,
    );
  }
  const param = options.maxTokensParam ?? 'max_tokens';
  const requested = error.length.maxNewTokens ?? 0;
  const asked = `${fields.max_tokens != null ? '' : 'the default '}\`${param}\` asks for ${requested} more`;
  return new OpenAiContextLengthError(
    param,
    `${prompt} and ${asked}: ${inputLength + requested} tokens, more than this model's context of ${maxTotalTokens}. Set \`${param}\` to at most ${maxTotalTokens - inputLength}, or shorten the ${what}.`,
  );
}

function parseLogitBias(bias: Record<string, number> | number[] | null | undefined, vocabSize: number): [number, number][] | undefined {
  // TGI types the field as a list of floats, which names no token: accepted and ignored, as TGI does.
  if (bias == null || Array.isArray(bias)) return undefined;
  const pairs: [number, number][] = [];
  for (const [key, value] of Object.entries(bias)) {
    const id = Number(key);
    if (!/^\d+$/.test(key) || id >= vocabSize)
      throw new OpenAiFieldError('logit_bias', `\`logit_bias\` keys must be token ids in [0, ${vocabSize}). Given: "${key}"`);
    if (!(value >= -100 && value <= 100))
      throw new OpenAiFieldError('logit_bias', `\`logit_bias\` values must be >= -100 and <= 100. Given: ${value} for token ${key}`);
    pairs.push([id, value]);
  }
  return pairs.length > 0 ? pairs : undefined;
}

/**
 * Checks the OpenAI ranges, then runs TGI's validation (lengths, stop count, limits) on the mapped
 * parameters. Throws OpenAiFieldError or ValidationError.
 */
export async function planOpenAiGeneration(
  prompt: string,
  fields: OpenAiSamplingFields,
  limits: ValidationLimits,
  tokenizer: TextTokenizer,
  options: PlanOptions,
): Promise<OpenAiGenerationPlan> {
  inRange('temperature', fields.temperature, 0, 2);
  if (fields.top_p != null && !(fields.top_p > 0 && fields.top_p <= 1))
    throw new OpenAiFieldError('top_p', `\`top_p\` must be > 0 and <= 1. Given: ${fields.top_p}`);
  inRange('presence_penalty', fields.presence_penalty, -2, 2);
  inRange('frequency_penalty', fields.frequency_penalty, -2, 2);
  inRange('n', fields.n, 1, MAX_CHOICES);
  if (fields.max_tokens != null && fields.max_tokens < 1)
    throw new OpenAiFieldError('max_tokens', `\`max_tokens\` must be at least 1. Given: ${fields.max_tokens}`);
  if (fields.seed != null && !(fields.seed >= 0 && fields.seed < MAX_SEED))
    throw new OpenAiFieldError('seed', `\`seed\` must be an integer in [0, 2^64). Given: ${fields.seed}`);
  if (fields.top_k != null && fields.top_k < 1)
    throw new OpenAiFieldError('top_k', `\`top_k\` must be strictly positive. Given: ${fields.top_k}`);
  if (options.topLogprobs > limits.maxTopNTokens) {
    throw new OpenAiFieldError(
      'top_logprobs',
      `\`top_logprobs\` must be <= ${limits.maxTopNTokens} on this server (--max-top-n-tokens). Given: ${options.topLogprobs}`,
    );
  }
  const logitBias = parseLogitBias(fields.logit_bias, tokenizer.vocabSize);
  const userStop = fields.stop == null ? [] : typeof fields.stop === 'string' ? [fields.stop] : fields.stop;
  const stop = [...userStop, ...(options.extraStop ?? []).filter((s) => !userStop.includes(s))];

  const greedy = fields.temperature === 0;
  const parameters: GenerateParameters = {
    do_sample: !greedy,
    temperature: greedy || fields.temperature == null ? undefined : fields.temperature,
    top_p: greedy || fields.top_p == null || fields.top_p === 1 ? undefined : fields.top_p,
    top_k: greedy ? undefined : fields.top_k,
    typical_p: greedy || fields.typical_p == null || fields.typical_p === 1 ? undefined : fields.typical_p,
    repetition_penalty: fields.repetition_penalty,
    max_new_tokens: fields.max_tokens ?? options.defaultMaxTokens,
    stop,
    top_n_tokens: options.topLogprobs,
    details: true,
    grammar: fields.grammar,
    adapter_id: fields.adapter_id ?? (fields.model != null && limits.loraAdapters.includes(fields.model) ? fields.model : undefined),
  };
  const extraSampling: Partial<SamplingParams> = {
    presencePenalty: fields.presence_penalty ?? 0,
    countPenalty: fields.frequency_penalty ?? 0,
    logitBias,
  };
  const first = await validateGenerate(prompt, parameters, limits, tokenizer, {
    defaultDoSample: !greedy,
    seedOverride: fields.seed ?? undefined,
    addSpecialTokens: options.addSpecialTokens,
    extraSampling,
    serverStopSequences: stop.length - userStop.length,
  }).catch((error: unknown) => {
    if (error instanceof ContextLengthError) throw contextLengthError(error, fields, options);
    // The grammar of these routes is their response_format.
    throw error instanceof ValidationError && error.field === 'grammar' ? new OpenAiFieldError('response_format', error.message) : error;
  });
  const choices = [first];
  for (let i = 1; i < options.choices; i++) {
    // With a seed, choice i draws from seed + i: reproducible, and the choices still differ.
    const seed = fields.seed == null ? randomSeed() : (fields.seed + BigInt(i)) % MAX_SEED;
    choices.push({ ...first, request: { ...first.request, sampling: { ...first.request.sampling, seed } } });
  }
  return { choices, stop: userStop };
}
