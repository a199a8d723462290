// The request and event contracts shared by the layers: what a validated request is and what
// generating it emits (tokens, prefill logprobs, the finish), from the engine thread up to the routes.
import type { GrammarSpec } from '../grammar/grammars.js';
import type { SamplingParams } from '../sampling/params.js';

export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** A request after validation: everything the scheduler and the engine need, nothing HTTP. */
export interface GenerationRequest {
  id: number;
  inputIds: number[];
  sampling: SamplingParams;
  maxNewTokens: number;
  stopSequences: string[];
  topNTokens: number;
  prefillLogprobs: boolean;
  /**
   * Whether the chosen tokens' logprobs are used (returned, or ranking best_of). When they are not,
   * a constrained request may check the token drawn from the unconstrained distribution first and
   * compute the grammar's full mask only when it is refused (absent: true).
   */
  tokenLogprobs?: boolean;
  /** The constraint on the generated text, if any. */
  grammar?: GrammarSpec;
  /** The LoRA adapter to generate with (absent: the base model). */
  adapter?: string;
  /** The prompt's images, in prompt order: `inputIds` holds a placeholder id at each of their rows. */
  images?: PromptImage[];
}

/**
 * An image in a prompt: the projector's rows, which the model takes as input embeddings in place of
 * token ids. Its placeholder ids in `inputIds` are negative, derived from the image's pixel hash, so
 * that a prompt repeating the same images in the same places shares a cached prefix.
 */
export interface PromptImage {
  /** Index in `inputIds` of its first row. */
  start: number;
  /** Rows it takes in the prompt. */
  tokens: number;
  /** tokens x the model's embedding width floats, row after row. */
  rows: Float32Array;
  /** Decoded with causal attention off, every row in one batch (Gemma 3). */
  nonCausal: boolean;
  /**
   * Positions the image takes: `tokens`, or with M-RoPE (Qwen2-VL family) fewer, its longer side
   * in merged patches; the prompt after it is that much further on.
   */
  positions: number;
  /**
   * With M-RoPE: each row's position in four planes (time, height, width, unused), for the image
   * at position 0; the first three move with the image's position.
   */
  planes?: Int32Array;
}

/** Placeholder ids of an image's rows: negative (never a vocabulary id), from its hash and the row's index. */
export function imagePlaceholderIds(hash: string, tokens: number): Int32Array {
  let seed = 0x811c9dc5;
  for (let i = 0; i < hash.length; i++) seed = Math.imul(seed ^ hash.charCodeAt(i), 0x01000193);
  const ids = new Int32Array(tokens);
  for (let i = 0; i < tokens; i++) {
    let x = Math.imul(seed ^ Math.imul(i + 1, 0x9e3779b1), 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    ids[i] = -1 - (x & 0x3fffffff);
  }
  return ids;
}

export interface GeneratedToken {
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

export interface PrefillToken {
  id: number;
  text: string;
  logprob: number | null;
}

export interface FinishInfo {
  reason: FinishReason;
  generatedText: string;
  generatedTokens: number;
  inputLength: number;
  /** Prompt tokens whose KV cells came from the prefix cache instead of being computed. */
  cachedTokens: number;
  /** Epoch milliseconds (fractional): when the batch that admitted it started, when its first token was chosen, when it finished. */
  startedAt: number;
  firstTokenAt: number;
  finishedAt: number;
}

/**
 * Why a request ended with an error event: capacity, it can never fit the KV pool; grammar, its
 * constraint could not be compiled or followed; engine, the engine failed (a decode, a layout, the
 * thread itself); stopped, the server stopped it (shutdown), which is not a failure of the request.
 */
export type RequestFailure = 'capacity' | 'grammar' | 'engine' | 'stopped';

export type EngineEvent =
  | { kind: 'prefill'; requestId: number; tokens: PrefillToken[] }
  | { kind: 'token'; requestId: number; token: GeneratedToken; topTokens?: GeneratedToken[]; finish?: FinishInfo }
  | { kind: 'error'; requestId: number; failure: RequestFailure; message: string }
  | { kind: 'dropped'; requestId: number };
