// The tokenizer seam: what validation, the scheduler and the API need from a model's vocabulary.

export interface TokenSpan {
  id: number;
  /** Half-open UTF-8 byte offsets into the tokenized text. */
  start: number;
  stop: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** Tokenizes with the model's special tokens (BOS...) when `addSpecial`; special-token text in `text` is parsed. */
  tokenize(text: string, addSpecial: boolean): Int32Array;
  tokenizeWithOffsets(text: string): TokenSpan[];
  /** Raw bytes of a token sequence; special tokens rendered as text when `keepSpecial`. */
  decodeBytes(ids: ArrayLike<number>, keepSpecial: boolean): Uint8Array;
  decode(ids: ArrayLike<number>, keepSpecial: boolean): string;
  /** The text of a single token, special tokens rendered. */
  tokenText(id: number): string;
  isSpecial(id: number): boolean;
  isEndOfGeneration(id: number): boolean;
}
