// The JSON of tokenized text (/tokenize, /chat_tokenize): each token with its UTF-8 byte span and
// the text of that span.
import type { Tokenizer } from '../core/tokenizer.js';

/** JSON text of the array [{id, text, start, stop}, ...] of `text`'s tokens. */
export function tokenSpansJson(tokenizer: Tokenizer, text: string, addSpecial: boolean): string {
  const bytes = Buffer.from(text, 'utf8');
  const parts = tokenizer
    .tokenizeWithOffsets(text, addSpecial)
    .map((span) =>
      JSON.stringify({ id: span.id, text: bytes.subarray(span.start, span.stop).toString('utf8'), start: span.start, stop: span.stop }),
    );
  return `[${parts.join(',')}]`;
}
