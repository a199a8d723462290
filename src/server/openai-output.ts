// Output shaping of the OpenAI routes: ids, finish reasons, stop strings cut from the text (OpenAI
// does not return them, TGI does), and logprobs in the chat and legacy completion formats.
import { randomUUID } from 'node:crypto';
import type { CompletionLogprobsJson, LogprobContentJson, TopLogprobJson } from '../api/openai.js';
import type { FinishReason, GeneratedToken } from '../core/request.js';

export const completionId = (prefix: 'chatcmpl' | 'cmpl') => `${prefix}-${randomUUID().replaceAll('-', '')}`;

export const unixSeconds = () => Math.floor(Date.now() / 1000);

export function openAiFinishReason(reason: FinishReason): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

/** The text before the first stop string (the generation ends at the first one that appears). */
export function cutAtStop(text: string, stops: string[]): string {
  let cut = text.length;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const at = text.indexOf(stop);
    if (at >= 0 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}

/**
 * Streams text while keeping stop strings out of it: text that could be the start of a stop string
 * is held back until the next tokens show whether it is one.
 */
export class StopTextFilter {
  private pending = '';
  private stopped = false;

  constructor(private readonly stops: string[]) {}

  /** Returns the text that can be sent now. */
  push(text: string): string {
    if (this.stopped) return '';
    if (this.stops.length === 0) return text;
    const window = this.pending + text;
    const cut = cutAtStop(window, this.stops);
    if (cut.length < window.length) {
      this.stopped = true;
      this.pending = '';
      return cut;
    }
    const hold = this.heldSuffixLength(window);
    this.pending = window.slice(window.length - hold);
    return window.slice(0, window.length - hold);
  }

  /** The held-back text once the generation has ended without a stop string. */
  flush(): string {
    const rest = this.stopped ? '' : this.pending;
    this.pending = '';
    return rest;
  }

  private heldSuffixLength(window: string): number {
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, window.length); k > hold; k--) {
        if (window.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}

const bytes = (text: string) => Array.from(Buffer.from(text, 'utf8'));
const f32 = Math.fround;

function topLogprob(token: GeneratedToken): TopLogprobJson {
  return { token: token.text, logprob: f32(token.logprob), bytes: bytes(token.text) };
}

/** One entry of a chat `logprobs.content` list. */
export function chatLogprob(token: GeneratedToken, top: GeneratedToken[] | undefined, topCount: number): LogprobContentJson {
  return { ...topLogprob(token), top_logprobs: (top ?? []).slice(0, topCount).map(topLogprob) };
}

/** The legacy completions logprobs object for a run of tokens, offsets counted from `startOffset`. */
export interface ScoredText {
  text: string;
  /** null for the first prompt token, which nothing predicts. */
  logprob: number | null;
  top?: GeneratedToken[];
}

export function completionLogprobs(tokens: ScoredText[], topCount: number, startOffset: number): CompletionLogprobsJson {
  const result: CompletionLogprobsJson = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  for (const token of tokens) {
    const top = token.top;
    result.tokens.push(token.text);
    result.token_logprobs.push(token.logprob === null ? null : f32(token.logprob));
    const alternatives: Record<string, number> = {};
    for (const t of (top ?? []).slice(0, topCount)) if (!(t.text in alternatives)) alternatives[t.text] = f32(t.logprob);
    result.top_logprobs.push(topCount > 0 && top ? alternatives : null);
    result.text_offset.push(offset);
    offset += token.text.length;
  }
  return result;
}
