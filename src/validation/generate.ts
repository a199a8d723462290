// TGI's validation of a generate request: its rules, in their order and with
// their messages, then tokenization, truncation and the length checks.
import type { GenerateParameters } from '../api/native.js';
import type { GenerationRequest, PromptImage } from '../core/request.js';
import { DomainError } from '../core/errors.js';
import type { SamplingParams } from '../sampling/params.js';
import { randomSeed } from '../sampling/random.js';
import { isSampling } from '../sampling/sampler.js';
import { type CompileGrammar, validateGrammar } from './grammar.js';
import { ContextLengthError, ValidationError } from './validation-error.js';

export { ValidationError };

export interface ValidationLimits {
  maxBestOf: number;
  maxStopSequences: number;
  maxTopNTokens: number;
  maxInputTokens: number;
  maxTotalTokens: number;
  disableGrammarSupport: boolean;
  /** Ids of the LoRA adapters a request may name. */
  loraAdapters: readonly string[];
}

/** What validation needs of the vocabulary: tokens of a text, however the caller computes them. */
export interface TextTokenizer {
  readonly vocabSize: number;
  tokenize(text: string, addSpecial: boolean): Promise<ArrayLike<number>>;
  /** Compiles a grammar (off the HTTP thread, cached). */
  compileGrammar: CompileGrammar;
  /**
   * For a prompt with images (the tokenizer knows the request's images): its ids, a placeholder id
   * per image row, and the images' rows; kept to the last `keepLast` positions (`truncate`), and
   * not encoded when more than `maxPositions` are kept.
   */
  tokenizePrompt?(text: string, addSpecial: boolean, keepLast: number | undefined, maxPositions: number): Promise<TokenizedPrompt>;
}

export interface TokenizedPrompt {
  ids: ArrayLike<number>;
  images: PromptImage[];
}

export interface ValidatedGenerate {
  request: Omit<GenerationRequest, 'id'>;
  inputLength: number;
  /** Whether the token is drawn at random (seed reported) or greedy (seed null). */
  sampled: boolean;
  /** Whether the client chose the seed (else it was drawn at random). */
  seedGiven: boolean;
  details: boolean;
  decoderInputDetails: boolean;
}

/** Whether the same request always gives the same output: greedy, or sampled from a seed the client chose. */
export function isDeterministic(validated: ValidatedGenerate): boolean {
  return !validated.sampled || validated.seedGiven;
}

/** A loaded adapter's id, or a 422 naming the loaded ones. */
function checkedAdapter(id: string, loaded: readonly string[]): string {
  if (loaded.includes(id)) return id;
  if (loaded.length === 0)
    throw new ValidationError(
      `adapter_id "${id}" is not available: this server has no LoRA adapters loaded (start it with --lora-adapters)`,
    );
  throw new ValidationError(`adapter_id "${id}" is not a loaded LoRA adapter; the loaded ones are: ${loaded.join(', ')}`);
}

/** best_of limits, checked before anything else when best_of > 1. */
function validateBestOf(bestOf: number, limits: Pick<ValidationLimits, 'maxBestOf'>): void {
  if (limits.maxBestOf === 1 && bestOf !== 1) throw new ValidationError('`best_of` != 1 is not allowed for this endpoint');
  if (bestOf > limits.maxBestOf) throw new ValidationError(`\`best_of\` must be > 0 and <= ${limits.maxBestOf}. Given: ${bestOf}`);
}

/**
 * TGI's rules on a native request's parameters that depend on how it is answered, checked before
 * anything else: a stream runs one sequence without prompt details; best_of's limits otherwise.
 */
export function checkNativeParameters(
  parameters: GenerateParameters | undefined,
  limits: Pick<ValidationLimits, 'maxBestOf'>,
  streaming: boolean,
): void {
  if (streaming) {
    if (parameters?.best_of != null && parameters.best_of !== 1)
      throw new ValidationError('`best_of` != 1 is not supported when streaming tokens');
    if (parameters?.decoder_input_details)
      throw new ValidationError('`decoder_input_details` == true is not supported when streaming tokens');
    return;
  }
  const bestOf = parameters?.best_of ?? 1;
  if (bestOf > 1) validateBestOf(bestOf, limits);
}

export interface ValidateOptions {
  defaultDoSample: boolean;
  seedOverride?: bigint;
  addSpecialTokens?: boolean;
  extraSampling?: Partial<SamplingParams>;
  /** Stop strings the server appends to the user's (a template's end marker): not counted against the limit. */
  serverStopSequences?: number;
}

export async function validateGenerate(
  inputs: string,
  parameters: GenerateParameters,
  limits: ValidationLimits,
  tokenizer: TextTokenizer,
  options: ValidateOptions,
): Promise<ValidatedGenerate> {
  const p = parameters;
  const bestOf = p.best_of ?? 1;
  const doSample = p.do_sample ?? options.defaultDoSample;
  const samplingRequested = doSample || p.temperature != null || p.top_k != null || p.top_p != null || p.typical_p != null;
  if (bestOf > 1 && !samplingRequested) throw new ValidationError('you must use sampling when `best_of` is > 1');

  const temperature = p.temperature ?? 1.0;
  if (temperature <= 0) throw new ValidationError('`temperature` must be strictly positive');
  const repetitionPenalty = p.repetition_penalty ?? 1.0;
  if (repetitionPenalty <= 0) throw new ValidationError('`repetition_penalty` must be strictly positive');
  const frequencyPenalty = p.frequency_penalty ?? 0.0;
  if (frequencyPenalty < -2 || frequencyPenalty > 2) throw new ValidationError('`frequency_penalty` must be >= -2.0 and <= 2.0');
  if (p.top_p != null && (p.top_p <= 0 || p.top_p >= 1)) throw new ValidationError('`top_p` must be > 0.0 and < 1.0');
  if (p.typical_p != null && (p.typical_p <= 0 || p.typical_p >= 1)) throw new ValidationError('`typical_p` must be > 0.0 and < 1.0');
  if (p.top_k != null && p.top_k <= 0) throw new ValidationError('`top_k` must be strictly positive');
  if (p.max_new_tokens === 0) throw new ValidationError('`max_new_tokens` must be strictly positive');
  const stop = p.stop ?? [];
  const userStops = stop.length - (options.serverStopSequences ?? 0);
  if (userStops > limits.maxStopSequences) {
    throw new ValidationError(`\`stop\` supports up to ${limits.maxStopSequences} stop sequences. Given: ${userStops}`);
  }
  if (p.seed != null && bestOf > 1) throw new ValidationError('`seed` must not be set when `best_of` > 1');
  const topNTokens = p.top_n_tokens ?? 0;
  if (topNTokens > limits.maxTopNTokens) {
    throw new ValidationError(`\`top_n_tokens\` must be >= 0 and <= ${limits.maxTopNTokens}. Given: ${topNTokens}`);
  }
  if (inputs.length === 0) throw new ValidationError('`inputs` cannot be empty');
  if (p.truncate != null && (p.truncate === 0 || p.truncate > limits.maxInputTokens)) {
    throw new ValidationError(`\`truncate\` must be strictly positive and less than ${limits.maxInputTokens}. Given: ${p.truncate}`);
  }

  let ids: number[];
  let images: PromptImage[] | undefined;
  try {
    if (tokenizer.tokenizePrompt) {
      const prompt = await tokenizer.tokenizePrompt(
        inputs,
        options.addSpecialTokens ?? true,
        p.truncate ?? undefined,
        limits.maxInputTokens,
      );
      ids = Array.from(prompt.ids);
      if (prompt.images.length > 0) images = prompt.images;
    } else {
      ids = Array.from(await tokenizer.tokenize(inputs, options.addSpecialTokens ?? true));
    }
  } catch (error) {
    // An image's own error (undecodable, over a limit, cut by truncate) names the field at fault.
    if (error instanceof DomainError) throw error;
    throw new ValidationError(`tokenizer error ${error instanceof Error ? error.message : String(error)}`);
  }
  if (p.truncate != null && ids.length > p.truncate) ids = ids.slice(ids.length - p.truncate);
  const inputLength = ids.length;
  const maxNewTokens = p.max_new_tokens ?? Math.max(0, limits.maxTotalTokens - inputLength);
  const length = {
    inputLength,
    maxNewTokens: p.max_new_tokens ?? undefined,
    maxTotalTokens: limits.maxTotalTokens,
    maxInputTokens: limits.maxInputTokens,
  };
  // Without max_new_tokens the default fills what the prompt leaves, so only the prompt's own length
  // can fail (rule 16, as max_input_tokens < max_total_tokens): TGI's "0 `max_new_tokens`" is not said.
  if (p.max_new_tokens != null && inputLength + maxNewTokens > limits.maxTotalTokens) {
    throw new ContextLengthError(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${limits.maxTotalTokens}. Given: ${inputLength} \`inputs\` tokens and ${maxNewTokens} \`max_new_tokens\``,
      length,
    );
  }
  if (inputLength > limits.maxInputTokens) {
    throw new ContextLengthError(`\`inputs\` must have less than ${limits.maxInputTokens} tokens. Given: ${inputLength}`, length);
  }
  const grammar = p.grammar != null ? await validateGrammar(p.grammar, limits.disableGrammarSupport, tokenizer.compileGrammar) : undefined;
  const adapter = p.adapter_id == null ? undefined : checkedAdapter(p.adapter_id, limits.loraAdapters);

  const sampling: SamplingParams = {
    doSample,
    temperature,
    topK: p.top_k ?? 0,
    topP: p.top_p ?? 1.0,
    typicalP: p.typical_p ?? 1.0,
    repetitionPenalty,
    frequencyPenalty,
    seed: options.seedOverride ?? p.seed ?? randomSeed(),
    watermark: p.watermark ?? false,
    ...options.extraSampling,
  };
  return {
    request: {
      inputIds: ids,
      sampling,
      maxNewTokens,
      stopSequences: stop,
      topNTokens,
      prefillLogprobs: p.decoder_input_details ?? false,
      ...(grammar ? { grammar } : {}),
      ...(adapter !== undefined ? { adapter } : {}),
      ...(images ? { images } : {}),
    },
    inputLength,
    sampled: isSampling(sampling),
    seedGiven: options.seedOverride !== undefined || p.seed != null,
    details: p.details ?? false,
    decoderInputDetails: p.decoder_input_details ?? false,
  };
}
