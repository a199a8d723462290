// Validated requests for the scheduler, as the routes would submit them.
import type { GenerationRequest } from '../../src/core/request.js';
import type { SamplingParams } from '../../src/sampling/params.js';

/** Greedy decoding, no penalties. */
export const GREEDY: SamplingParams = {
  doSample: false,
  temperature: 1,
  topK: 0,
  topP: 1,
  typicalP: 1,
  repetitionPenalty: 1,
  frequencyPenalty: 0,
  seed: 1n,
  watermark: false,
};

/** A greedy request of these prompt ids (BOS first when the caller adds it). */
export function request(id: number, inputIds: number[], maxNewTokens: number, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  return { id, inputIds, sampling: GREEDY, maxNewTokens, stopSequences: [], topNTokens: 0, prefillLogprobs: false, ...extra };
}
