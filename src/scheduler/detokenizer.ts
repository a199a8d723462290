// Incremental detokenization as TGI does it: a token's text is the growth of the decoded tail of
// the sequence, so multi-byte characters split across tokens are emitted once complete and
// tokenizer spacing rules see their context.
import type { Tokenizer } from '../core/tokenizer.js';

const REPLACEMENT = '\uFFFD';

function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function dropCodePoints(text: string, count: number): string {
  let index = 0;
  for (let i = 0; i < count && index < text.length; i++) {
    index += text.codePointAt(index)! > 0xffff ? 2 : 1;
  }
  return text.slice(index);
}

export class IncrementalDetokenizer {
  private prefixOffset: number;
  private readOffset: number;

  /** `ids` is the sequence's live token list (prompt then generated); it is read, never copied. */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly ids: number[],
    promptLength: number,
  ) {
    this.prefixOffset = Math.max(0, promptLength - 5);
    this.readOffset = promptLength;
  }

  /** Text contributed by the token just appended to `ids`; empty while a character is incomplete. */
  next(): string {
    const before = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset), true);
    const after = this.tokenizer.decode(this.ids.slice(this.prefixOffset), true);
    const beforeLength = codePointLength(before);
    if (codePointLength(after) > beforeLength && !after.endsWith(REPLACEMENT)) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return dropCodePoints(after, beforeLength);
    }
    return '';
  }
}

/**
 * The generated text with special tokens skipped: decoded after the last prompt token so that
 * leading-space rules apply as they would inside the sequence.
 */
export function decodeGenerated(tokenizer: Tokenizer, lastPromptToken: number | undefined, generated: number[]): string {
  if (lastPromptToken === undefined) return tokenizer.decode(generated, false);
  const prefix = tokenizer.decode([lastPromptToken], false);
  const full = tokenizer.decode([lastPromptToken, ...generated], false);
  return dropCodePoints(full, codePointLength(prefix));
}
