// The backend's own contracts: the model it loaded, the KV layout, and the Engine seam that a
// backend implements (one decode of a planned batch per step).
import type { Tokenizer } from '../core/tokenizer.js';

export interface ModelInfo {
  path: string;
  name?: string;
  architecture: string;
  /** The type of the weights (F32, Q8_0, Q4_K_M...). */
  description: string;
  parameterCount: number;
  sizeBytes: number;
  trainedContext: number;
  embeddingSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  vocabType: string;
  bosId: number;
  eosId: number;
  endOfGenerationIds: number[];
  addBos: boolean;
}

export interface StepEntry {
  sequence: number;
  tokens: ArrayLike<number>;
  startPosition: number;
  /** Which positions need logits: none, only the last token, or every token (prompt logprobs). */
  outputs: 'none' | 'last' | 'all';
  /**
   * Image rows instead of token ids (`tokens` then holds their placeholder ids): tokens.length x the
   * model's embedding width floats. Such an entry is decoded alone, its outputs 'none' or 'last'.
   */
  embeddings?: {
    rows: Float32Array;
    nonCausal: boolean;
    /** M-RoPE positions of these rows, four planes for an image at position 0 (see PromptImage). */
    planes?: Int32Array;
  };
}

/**
 * llama.cpp's CPU flash attention computes a sequence's queries with its tiled kernel from this many
 * query tokens of the sequence in one micro-batch, else query by query; the two round differently.
 * Within each kernel a token's numbers do not depend on where its chunk starts or how long it is.
 */
export const TILED_QUERY_TOKENS = 64;

/** How the KV cache's cells are divided: `sequences` streams of `sequenceCells` cells each. */
export interface KvLayout {
  sequences: number;
  sequenceCells: number;
}

/** A new KV layout could not be made; the engine kept the old one, with its sequences. */
export class KvLayoutUnavailableError extends Error {}

export interface EngineLimits {
  /** KV cells each sequence has (prompt + generated tokens). */
  sequenceContextSize: number;
  maxSequences: number;
  /** Most tokens one decode call accepts. */
  maxBatchTokens: number;
}

/**
 * One backend. decode() runs a single forward pass over the planned entries; logitsAt() then
 * reads the output for the k-th token of the batch that asked for logits (entry order, token order).
 */
export interface Engine {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  readonly limits: EngineLimits;
  decode(entries: StepEntry[]): void;
  /** Applies a LoRA adapter (undefined: none) to the decodes that follow. */
  setAdapter(adapter: string | undefined): void;
  /** Loads a GGUF LoRA adapter of the model, or frees one no sequence uses. */
  loadAdapter(id: string, path: string): void;
  unloadAdapter(id: string): void;
  logitsAt(outputIndex: number): Float32Array;
  /** Makes `destination` hold a copy of all of `source`'s cells. */
  copySequence(source: number, destination: number): void;
  /** Drops a sequence's cells from `position` on. */
  truncateSequence(sequence: number, position: number): void;
  /** Rebuilds the KV cache with another layout, moving the cells of the sequences in `keep`. */
  relayout(layout: KvLayout, keep: ReadonlyArray<{ from: number; to: number }>): void;
  reset(): void;
  close(): void;
}
