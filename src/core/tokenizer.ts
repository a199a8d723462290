// The tokenizer seam: what validation, the scheduler and the API need from a model's vocabulary.

export interface TokenSpan {
  id: number;
  /** Half-open UTF-8 byte offsets into the tokenized text. */
  start: number;
  stop: number;
}

/** Token ids of fill-in-the-middle prompts (prefix, suffix, then the middle is generated). */
export interface FillInTheMiddleTokens {
  prefix: number;
  suffix: number;
  middle: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** Tokenizes with the model's special tokens (BOS...) when `addSpecial`; special-token text in `text` is parsed. */
  tokenize(text: string, addSpecial: boolean): Int32Array;
  /** Byte spans of the tokens; special tokens added by the model (BOS...) are zero-width. */
  tokenizeWithOffsets(text: string, addSpecial?: boolean): TokenSpan[];
  /** Present when the model was trained for fill-in-the-middle (the completions `suffix`). */
  readonly fillInTheMiddle: FillInTheMiddleTokens | undefined;
  /** Raw bytes of a token sequence; special tokens rendered as text when `keepSpecial`. */
  decodeBytes(ids: ArrayLike<number>, keepSpecial: boolean): Uint8Array;
  decode(ids: ArrayLike<number>, keepSpecial: boolean): string;
  /** The bytes a token stands for in generated text (empty for control tokens). */
  tokenBytes(id: number): Uint8Array;
  /** The text of a single token, special tokens rendered. */
  tokenText(id: number): string;
  isSpecial(id: number): boolean;
  isEndOfGeneration(id: number): boolean;
}
