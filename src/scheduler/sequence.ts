// One admitted request while it runs: its KV position, its sampler, its text state.
import type { Engine } from '../engine/types.js';
import type { GenerationRequest, GeneratedToken, PrefillToken } from '../core/request.js';
import { SequenceSampler, type ScoredToken } from '../sampling/sampler.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import { IncrementalDetokenizer } from './detokenizer.js';
import { StopCriteria } from './stop-criteria.js';
import type { ConstraintState } from '../grammar/constraint.js';
import type { SlotView } from './slots.js';
import { positionOf, promptSegments, type Segment } from './image-prompt.js';

export class RunningSequence {
  /** Prompt then generated ids. */
  readonly ids: number[];
  readonly promptLength: number;
  /** Tokens already written to this sequence's KV cells. */
  cached: number;
  generated = 0;
  /** When its first token was chosen (epoch ms); 0 until then. */
  firstTokenAt = 0;
  readonly prefill: PrefillToken[] = [];
  readonly sampler: SequenceSampler;
  readonly detokenizer: IncrementalDetokenizer;
  readonly stop: StopCriteria;
  /** For a prompt with images: its segments (see image-prompt.ts). */
  readonly segments: Segment[] | undefined;

  constructor(
    readonly request: GenerationRequest,
    /** The engine's sequence id: it changes when the KV cache is laid out anew. */
    public slot: number,
    readonly reservation: number,
    /** Prompt tokens whose cells were reused from an earlier request. */
    readonly reused: number,
    readonly startedAt: number,
    engine: Engine,
    watermark: WatermarkSettings,
    /** The grammar's state, when the request has one. */
    readonly constraint?: ConstraintState,
  ) {
    this.ids = [...request.inputIds];
    this.promptLength = this.ids.length;
    this.cached = reused;
    this.segments = request.images?.length ? promptSegments(this.promptLength, request.images) : undefined;
    this.sampler = new SequenceSampler(request.sampling, this.ids, watermark);
    this.detokenizer = new IncrementalDetokenizer(engine.tokenizer, this.ids, this.promptLength);
    this.stop = new StopCriteria(request.maxNewTokens, request.stopSequences, (id) => engine.tokenizer.isEndOfGeneration(id));
    if (request.prefillLogprobs && this.promptLength > 0) {
      const first = this.ids[0];
      this.prefill.push({ id: first, text: engine.tokenizer.tokenText(first), logprob: null });
    }
  }

  /** The KV position of index `index` of its ids (images with M-RoPE take fewer positions than rows). */
  position(index: number): number {
    return this.segments ? positionOf(this.request.images, index) : index;
  }

  get prefilling(): boolean {
    return this.cached < this.promptLength;
  }

  /** Tokens to feed next: a prompt chunk of at most `budget`, or the last generated token. */
  pendingTokens(budget: number): number[] {
    if (this.prefilling) return this.ids.slice(this.cached, Math.min(this.promptLength, this.cached + budget));
    return [this.ids[this.cached]];
  }

  /**
   * What its cells hold, for prompts that could share them; `tiledPrompt`: the leading cells of the
   * prompt that the tiled attention kernel computes. A prompt computed for its logprobs is chunked
   * otherwise, and never shared.
   */
  slotView(tiledPrompt: number): SlotView {
    if (this.request.prefillLogprobs) return { tokens: [], adapter: this.request.adapter };
    return {
      tokens: this.ids.slice(0, this.cached),
      pendingPrompt: this.prefilling ? this.request.inputIds : undefined,
      adapter: this.request.adapter,
      tiled: Math.min(this.cached, tiledPrompt),
    };
  }

  toGenerated(engine: Engine, scored: ScoredToken, text: string): GeneratedToken {
    return { id: scored.id, text, logprob: scored.logprob, special: engine.tokenizer.isSpecial(scored.id) };
  }
}
