// A loaded GGUF model: weights (or the vocabulary alone), metadata and its tokenizer.
import { existsSync } from 'node:fs';
import { loadLlamaApi, type LlamaApi, type ModelParams, type Pointer } from './binding.js';
import { NewMappings } from './huge-pages.js';
import { ChunkBoundaries } from './chunk-boundaries.js';
import type { FillInTheMiddleTokens, Tokenizer, TokenSpan } from '../../core/tokenizer.js';
import type { ModelInfo } from '../types.js';

const TOKEN_ATTR_CONTROL = 1 << 3;
const TOKEN_ATTR_USER_DEFINED = 1 << 4;
const TOKEN_ATTR_UNKNOWN = 1 << 0;
/** Texts shorter than this are tokenized in one call; longer ones in chunks of CHUNK_TARGET. */
const CHUNKED_FROM = 16_384;
const CHUNK_TARGET = 4_096;
const VOCAB_TYPES = ['none', 'spm', 'bpe', 'wpm', 'ugm', 'rwkv', 'plamo2', 'test'];

const utf8 = new TextDecoder('utf-8');

export interface ModelLoadOptions {
  vocabOnly?: boolean;
  gpuLayers?: number;
  useMmap?: boolean;
  useMlock?: boolean;
  onProgress?: (fraction: number) => void;
}

class LlamaVocabulary implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly fillInTheMiddle: FillInTheMiddleTokens | undefined;
  private readonly special: Uint8Array;
  private readonly eog: Uint8Array;
  private readonly texts: (string | undefined)[];
  private tokenBuf = new Int32Array(1024);
  private byteBuf = new Uint8Array(4096);
  private readonly pieces: (Uint8Array | undefined)[];
  private chunking: { boundaries: ChunkBoundaries; spacePrefix: number[] } | null | undefined;

  constructor(
    private readonly api: LlamaApi,
    private readonly vocab: Pointer,
  ) {
    this.vocabSize = api.llama_vocab_n_tokens(vocab);
    this.bosId = api.llama_vocab_bos(vocab);
    this.eosId = api.llama_vocab_eos(vocab);
    this.addBos = api.llama_vocab_get_add_bos(vocab);
    this.addEos = api.llama_vocab_get_add_eos(vocab);
    const fim = { prefix: api.llama_vocab_fim_pre(vocab), suffix: api.llama_vocab_fim_suf(vocab), middle: api.llama_vocab_fim_mid(vocab) };
    this.fillInTheMiddle = fim.prefix >= 0 && fim.suffix >= 0 && fim.middle >= 0 ? fim : undefined;
    this.special = new Uint8Array(this.vocabSize);
    this.eog = new Uint8Array(this.vocabSize);
    this.texts = new Array(this.vocabSize);
    this.pieces = new Array(this.vocabSize);
    for (let id = 0; id < this.vocabSize; id++) {
      const attr = api.llama_vocab_get_attr(vocab, id);
      if (attr & (TOKEN_ATTR_CONTROL | TOKEN_ATTR_UNKNOWN) || (attr & TOKEN_ATTR_USER_DEFINED && api.llama_vocab_is_control(vocab, id))) {
        this.special[id] = 1;
      }
      if (api.llama_vocab_is_eog(vocab, id)) this.eog[id] = 1;
    }
  }

  get typeName(): string {
    return VOCAB_TYPES[this.api.llama_vocab_type(this.vocab)] ?? 'unknown';
  }

  endOfGenerationIds(): number[] {
    const ids: number[] = [];
    this.eog.forEach((v, i) => v && ids.push(i));
    return ids;
  }

  /** Tokens of `text`: in one llama.cpp call when short, else chunk by chunk with the same result. */
  tokenize(text: string, addSpecial: boolean): Int32Array {
    if (text.length < CHUNKED_FROM || (addSpecial && this.addEos)) return this.tokenizeInOneCall(text, addSpecial);
    const chunking = this.chunkingSetup();
    if (!chunking) return this.tokenizeInOneCall(text, addSpecial);
    const chunks = chunking.boundaries.split(text, CHUNK_TARGET);
    if (chunks.length === 1) return this.tokenizeInOneCall(text, addSpecial);
    let out = new Int32Array(Math.max(1024, text.length));
    let length = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i];
      let ids = this.tokenizeInOneCall(text.slice(chunk.start, chunk.end), addSpecial && i === 0);
      if (chunk.dropSpacePrefix) {
        const prefix = chunking.spacePrefix;
        // Never expected: the cut rules keep the prefix a token of its own. Stay exact regardless.
        if (!prefix.every((id, j) => ids[j] === id)) return this.tokenizeInOneCall(text, addSpecial);
        ids = ids.subarray(prefix.length);
      }
      if (length + ids.length > out.length) {
        const grown = new Int32Array(Math.max(out.length * 2, length + ids.length));
        grown.set(out.subarray(0, length));
        out = grown;
      }
      out.set(ids, length);
      length += ids.length;
    }
    return out.slice(0, length);
  }

  /** One llama.cpp call over the whole text: the reference the chunked path must equal. */
  tokenizeInOneCall(text: string, addSpecial: boolean): Int32Array {
    const bytes = Buffer.from(text, 'utf8');
    let capacity = bytes.length + 8;
    if (this.tokenBuf.length < capacity) this.tokenBuf = new Int32Array(capacity);
    let n = this.api.llama_tokenize(this.vocab, bytes, bytes.length, this.tokenBuf, this.tokenBuf.length, addSpecial, true);
    if (n < 0) {
      capacity = -n;
      this.tokenBuf = new Int32Array(capacity);
      n = this.api.llama_tokenize(this.vocab, bytes, bytes.length, this.tokenBuf, capacity, addSpecial, true);
    }
    if (n < 0) throw new Error(`tokenization failed (${n})`);
    return this.tokenBuf.slice(0, n);
  }

  /** Built on the first long text: SentencePiece and BPE vocabularies only (others: one call). */
  private chunkingSetup(): { boundaries: ChunkBoundaries; spacePrefix: number[] } | null {
    if (this.chunking !== undefined) return this.chunking;
    const kind = this.typeName;
    if (kind !== 'spm' && kind !== 'bpe') return (this.chunking = null);
    const tokenTexts: string[] = [];
    const specialTexts: string[] = [];
    const idOf = new Map<string, number>();
    for (let id = 0; id < this.vocabSize; id++) {
      const text = this.api.llama_vocab_get_text(this.vocab, id) ?? '';
      tokenTexts.push(text);
      if (!idOf.has(text)) idOf.set(text, id);
      const attr = this.api.llama_vocab_get_attr(this.vocab, id);
      if (attr & (TOKEN_ATTR_CONTROL | TOKEN_ATTR_USER_DEFINED | TOKEN_ATTR_UNKNOWN)) specialTexts.push(text);
    }
    const probe = this.tokenizeInOneCall('a', false);
    const addSpacePrefix = kind === 'spm' && probe.length > 0 && this.pieceBytes(probe[0])[0] === 0x20;
    let spacePrefix: number[] = [];
    if (addSpacePrefix) {
      const whole = idOf.get('\u2581');
      const bytes = ['<0xE2>', '<0x96>', '<0x81>'].map((t) => idOf.get(t));
      if (whole !== undefined) spacePrefix = [whole];
      else if (bytes.every((id) => id !== undefined)) spacePrefix = bytes as number[];
      else return (this.chunking = null);
    }
    const boundaries = new ChunkBoundaries({ kind, tokenTexts, specialTexts, addSpacePrefix });
    return (this.chunking = { boundaries, spacePrefix });
  }

  tokenizeWithOffsets(text: string, addSpecial = true): TokenSpan[] {
    const input = Buffer.from(text, 'utf8');
    const ids = this.tokenize(text, addSpecial);
    const spans: TokenSpan[] = [];
    let offset = 0;
    let first = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const addedBos = addSpecial && i === 0 && this.addBos && id === this.bosId;
      const addedEos = addSpecial && i === ids.length - 1 && this.addEos && id === this.eosId;
      let piece = addedBos || addedEos ? new Uint8Array(0) : this.pieceBytes(id);
      // SentencePiece models prepend a space that is not in the input: it belongs to no input byte.
      if (first && piece.length > 0) {
        if (piece[0] === 0x20 && input[0] !== 0x20) piece = piece.subarray(1);
        first = false;
      }
      const start = Math.min(offset, input.length);
      offset += piece.length;
      spans.push({ id, start, stop: Math.min(offset, input.length) });
    }
    return spans;
  }

  private pieceBytes(id: number): Uint8Array {
    const cached = this.pieces[id];
    if (cached) return cached;
    let n = this.api.llama_token_to_piece(this.vocab, id, this.byteBuf, this.byteBuf.length, 0, true);
    if (n < 0) {
      this.byteBuf = new Uint8Array(-n * 2);
      n = this.api.llama_token_to_piece(this.vocab, id, this.byteBuf, this.byteBuf.length, 0, true);
    }
    const piece = this.byteBuf.slice(0, Math.max(0, n));
    this.pieces[id] = piece;
    return piece;
  }

  /**
   * The bytes a token stands for in generated text: its piece without special rendering, so empty
   * for control and unknown tokens. A fresh array, for callers that keep it (the grammar's trie).
   */
  tokenBytes(id: number): Uint8Array {
    let n = this.api.llama_token_to_piece(this.vocab, id, this.byteBuf, this.byteBuf.length, 0, false);
    if (n < 0) {
      this.byteBuf = new Uint8Array(-n * 2);
      n = this.api.llama_token_to_piece(this.vocab, id, this.byteBuf, this.byteBuf.length, 0, false);
    }
    return this.byteBuf.slice(0, Math.max(0, n));
  }

  decodeBytes(ids: ArrayLike<number>, keepSpecial: boolean): Uint8Array {
    if (ids.length === 0) return new Uint8Array(0);
    let tokens = ids instanceof Int32Array ? ids : Int32Array.from(ids);
    // Image rows (negative placeholder ids) stand for no text.
    if (tokens.some((id) => id < 0)) tokens = tokens.filter((id) => id >= 0);
    if (tokens.length === 0) return new Uint8Array(0);
    let n = this.api.llama_detokenize(this.vocab, tokens, tokens.length, this.byteBuf, this.byteBuf.length, false, keepSpecial);
    if (n < 0) {
      this.byteBuf = new Uint8Array(-n * 2);
      n = this.api.llama_detokenize(this.vocab, tokens, tokens.length, this.byteBuf, this.byteBuf.length, false, keepSpecial);
    }
    return this.byteBuf.slice(0, Math.max(0, n));
  }

  decode(ids: ArrayLike<number>, keepSpecial: boolean): string {
    return utf8.decode(this.decodeBytes(ids, keepSpecial));
  }

  tokenText(id: number): string {
    if (id < 0) return '';
    let text = this.texts[id];
    if (text === undefined) {
      text = utf8.decode(this.pieceBytes(id));
      this.texts[id] = text;
    }
    return text;
  }

  isSpecial(id: number): boolean {
    return this.special[id] === 1;
  }

  isEndOfGeneration(id: number): boolean {
    return this.eog[id] === 1;
  }
}

export class LlamaModel {
  readonly vocabulary: LlamaVocabulary;

  private constructor(
    readonly api: LlamaApi,
    readonly handle: Pointer,
    readonly path: string,
    readonly vocabOnly: boolean,
    /** Bytes of weight buffers given transparent huge pages. */
    readonly hugePageBytes = 0,
  ) {
    this.vocabulary = new LlamaVocabulary(api, api.llama_model_get_vocab(handle));
  }

  static load(path: string, options: ModelLoadOptions = {}): LlamaModel {
    if (!existsSync(path)) throw new Error(`model file not found: ${path}`);
    const api = loadLlamaApi();
    const params = api.llama_model_default_params() as ModelParams;
    params.vocab_only = options.vocabOnly ?? false;
    if (options.gpuLayers !== undefined) params.n_gpu_layers = options.gpuLayers;
    if (options.useMmap === false) params.load_mode = options.useMlock ? 2 : 0;
    else if (options.useMlock) params.load_mode = 3;
    // Weights read into memory: their buffers exist, untouched, when the first progress report
    // comes, before any tensor is read in.
    let buffers = options.useMmap === false && !params.vocab_only ? NewMappings.snapshot() : undefined;
    let hugePageBytes = 0;
    let callback: Pointer | undefined;
    if (options.onProgress || buffers) {
      const report = options.onProgress;
      callback = api.registerProgressCallback((p) => {
        if (buffers) hugePageBytes = buffers.advise();
        buffers = undefined;
        report?.(p);
        return true;
      });
      params.progress_callback = callback;
    }
    try {
      const handle = api.llama_model_load_from_file(path, params) as Pointer | null;
      if (!handle) throw new Error(`llama.cpp could not load the model file ${path} (not a supported GGUF?)`);
      return new LlamaModel(api, handle, path, params.vocab_only, hugePageBytes);
    } finally {
      if (callback !== undefined) api.unregister(callback);
    }
  }

  metadata(key: string): string | undefined {
    const buf = new Uint8Array(65536);
    const n = this.api.llama_model_meta_val_str(this.handle, key, buf, buf.length);
    if (n < 0) return undefined;
    return utf8.decode(buf.subarray(0, Math.min(n, buf.length - 1)));
  }

  chatTemplate(): string | undefined {
    return this.api.llama_model_chat_template(this.handle, null) ?? undefined;
  }

  private metadataNumber(key: string): number {
    const value = Number(this.metadata(key));
    return Number.isFinite(value) ? value : 0;
  }

  /** Shape and vocabulary facts. A vocabulary-only model has no tensors: its shape comes from metadata. */
  info(): ModelInfo {
    const api = this.api;
    const architecture = this.metadata('general.architecture') ?? 'unknown';
    const shape = this.vocabOnly
      ? {
          parameterCount: 0,
          sizeBytes: 0,
          trainedContext: this.metadataNumber(`${architecture}.context_length`),
          embeddingSize: this.metadataNumber(`${architecture}.embedding_length`),
          layers: this.metadataNumber(`${architecture}.block_count`),
          heads: this.metadataNumber(`${architecture}.attention.head_count`),
          kvHeads:
            this.metadataNumber(`${architecture}.attention.head_count_kv`) || this.metadataNumber(`${architecture}.attention.head_count`),
        }
      : {
          parameterCount: Number(api.llama_model_n_params(this.handle)),
          sizeBytes: Number(api.llama_model_size(this.handle)),
          trainedContext: api.llama_model_n_ctx_train(this.handle),
          embeddingSize: api.llama_model_n_embd(this.handle),
          layers: api.llama_model_n_layer(this.handle),
          heads: api.llama_model_n_head(this.handle),
          kvHeads: api.llama_model_n_head_kv(this.handle),
        };
    let description = architecture;
    if (!this.vocabOnly) {
      const desc = new Uint8Array(256);
      const n = api.llama_model_desc(this.handle, desc, desc.length);
      description = weightsType(
        this.metadata('general.file_type'),
        utf8.decode(desc.subarray(0, Math.max(0, Math.min(n, desc.length - 1)))),
        architecture,
      );
    }
    return {
      path: this.path,
      name: this.metadata('general.name'),
      architecture,
      description,
      ...shape,
      vocabSize: this.vocabulary.vocabSize,
      vocabType: this.vocabulary.typeName,
      bosId: this.vocabulary.bosId,
      eosId: this.vocabulary.eosId,
      endOfGenerationIds: this.vocabulary.endOfGenerationIds(),
      addBos: this.vocabulary.addBos,
    };
  }

  free(): void {
    this.api.llama_model_free(this.handle);
  }
}

/** llama.cpp's file types (enum llama_ftype), by the names GGUF files are published under. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
};

/**
 * The type of a model's weights: general.file_type when the file says it, else what llama.cpp
 * guessed from the tensors (its description reads "<arch> <size> <type>", with "?B" for a size it
 * does not know and "(guessed)" when the file does not say).
 */
function weightsType(fileType: string | undefined, llamaDescription: string, architecture: string): string {
  const known = fileType === undefined ? undefined : FILE_TYPES[Number(fileType)];
  if (known) return known;
  const guessed = llamaDescription
    .replace(architecture, '')
    .replace(/\(guessed\)/g, '')
    .trim()
    .split(/\s+/)
    .filter((word) => !/^(\?|[\d.]+[KMBT]?)B?$/.test(word) && word !== 'all')
    .join(' ');
  return guessed || 'unknown';
}
