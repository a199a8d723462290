// When a sequence stops, in TGI's order: length, end-of-generation token, stop sequence.
import type { FinishReason } from '../core/request.js';

const BUFFER_LIMIT = 300;
const BUFFER_KEEP = 200;

export class StopCriteria {
  private buffer = '';

  constructor(
    private readonly maxNewTokens: number,
    private readonly stopSequences: string[],
    private readonly isEndOfGeneration: (id: number) => boolean,
  ) {}

  /** Checks the token just generated (the `generated`-th) whose text is `text`. */
  check(tokenId: number, text: string, generated: number): FinishReason | undefined {
    if (generated >= this.maxNewTokens) return 'length';
    if (this.isEndOfGeneration(tokenId)) return 'eos_token';
    if (this.stopSequences.length === 0) return undefined;
    this.buffer += text;
    if (this.buffer.length > BUFFER_LIMIT) this.buffer = this.buffer.slice(-BUFFER_KEEP);
    for (const stop of this.stopSequences) if (stop.length > 0 && this.buffer.endsWith(stop)) return 'stop_sequence';
    return undefined;
  }
}
