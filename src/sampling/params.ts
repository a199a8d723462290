// How a request's next tokens are drawn: the knobs every API face maps onto.
export interface SamplingParams {
  /** Sample from the distribution; false means greedy argmax. */
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  typicalP: number;
  repetitionPenalty: number;
  /** TGI's length-normalised frequency penalty. */
  frequencyPenalty: number;
  /** Integer in [0, 2^64). */
  seed: bigint;
  watermark: boolean;
  /** OpenAI's additive penalties, over the generated tokens only (-2..2). */
  presencePenalty?: number;
  countPenalty?: number;
  /** OpenAI's logit_bias: [token id, bias] pairs added to the raw logits. */
  logitBias?: [number, number][];
}
