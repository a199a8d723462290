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
