// The llama.cpp Engine: one context shared by every sequence, one llama_decode per step.
import { FLASH_ATTN, GGML_TYPES, type ContextParams, type LlamaApi, type Pointer } from './binding.js';
import { LlamaModel, type ModelLoadOptions } from './model.js';
import { allocatingFromHeap } from './kv-heap.js';
import {
  KvLayoutUnavailableError,
  TILED_QUERY_TOKENS,
  type Engine,
  type EngineLimits,
  type KvLayout,
  type ModelInfo,
  type StepEntry,
} from '../types.js';
import type { Tokenizer } from '../../core/tokenizer.js';

export interface LlamaEngineOptions extends ModelLoadOptions {
  modelPath: string;
  /** KV cells of each sequence: every sequence has its own, so no request affects another's numbers. */
  sequenceContextSize: number;
  maxSequences: number;
  maxBatchTokens: number;
  microBatchTokens: number;
  threads: number;
  threadsBatch: number;
  flashAttention: 'auto' | 'on' | 'off';
  kvCacheType?: string;
  /** GGUF LoRA adapters of the model, by id. */
  loraAdapters?: ReadonlyArray<{ id: string; path: string }>;
}

/**
 * How long idle CPU workers spin before sleeping (0-100, llama.cpp's --poll): not at all, where
 * llama.cpp's tools spin (50). Between two decodes this process still has JavaScript to run (token
 * choice, the hand-over to the HTTP thread, the SSE write), and on a machine with as many cores as
 * compute threads a spinning worker takes the core that work needs. Measured on 2 cores: 6-11% more
 * tokens/s for a single stream.
 */
const THREADPOOL_POLL = 0;

export interface ResolvedContext {
  contextSize: number;
  sequenceContextSize: number;
  batchSize: number;
  microBatchSize: number;
  sequences: number;
  threads: number;
  threadsBatch: number;
  /** Bytes of weight buffers given transparent huge pages (asked for; Linux, weights in memory). */
  weightsInHugePages: number;
}

/** Native batch arrays, allocated once at the largest size a step may use. */
class NativeBatch {
  readonly tokens: Int32Array;
  readonly positions: Int32Array;
  readonly seqIds: Int32Array;
  readonly outputs: Int8Array;
  private embdCapacity = 0;
  private embdPointer: Pointer | null = null;
  /** Rows of input embeddings (image rows), grown on demand. */
  embd: Float32Array = new Float32Array(0);
  private readonly struct: {
    n_tokens: number;
    token: Pointer | null;
    embd: Pointer | null;
    pos: Pointer;
    n_seq_id: Pointer;
    seq_id: Pointer;
    logits: Pointer;
  };

  constructor(
    private readonly api: LlamaApi,
    capacity: number,
  ) {
    const token = api.allocBytes(4 * capacity);
    // Four planes for M-RoPE image rows.
    const pos = api.allocBytes(4 * 4 * capacity);
    const nSeq = api.allocBytes(4 * capacity);
    const seq = api.allocBytes(4 * capacity);
    const seqPtrs = api.allocBytes(8 * capacity);
    const logits = api.allocBytes(capacity);
    this.tokens = new Int32Array(token.buffer);
    this.positions = new Int32Array(pos.buffer);
    new Int32Array(nSeq.buffer).fill(1);
    this.seqIds = new Int32Array(seq.buffer);
    const pointers = new BigUint64Array(seqPtrs.buffer);
    for (let i = 0; i < capacity; i++) pointers[i] = seq.ptr + BigInt(4 * i);
    this.outputs = new Int8Array(logits.buffer);
    this.tokenPointer = token.ptr;
    this.struct = { n_tokens: 0, token: token.ptr, embd: null, pos: pos.ptr, n_seq_id: nSeq.ptr, seq_id: seqPtrs.ptr, logits: logits.ptr };
  }

  private readonly tokenPointer: Pointer;

  /** Makes `embd` hold at least `floats` values (native memory, kept for later batches). */
  reserveEmbeddings(floats: number): void {
    if (floats <= this.embdCapacity) return;
    const capacity = Math.max(floats, 2 * this.embdCapacity);
    const block = this.api.allocBytes(4 * capacity);
    this.embdPointer = block.ptr;
    this.embd = new Float32Array(block.buffer);
    this.embdCapacity = capacity;
  }

  asStruct(count: number, embeddings = false) {
    this.struct.n_tokens = count;
    this.struct.token = embeddings ? null : this.tokenPointer;
    this.struct.embd = embeddings ? this.embdPointer : null;
    return this.struct;
  }
}

/**
 * Where the next piece of a long chunk ends when it is decoded `step` tokens at a time from
 * `start`: never leaving fewer than TILED_QUERY_TOKENS for last (they would be computed by the
 * other attention kernel) where the micro-batch holds two such pieces.
 */
function chunkEnd(start: number, length: number, step: number, micro: number): number {
  const end = Math.min(length, start + step);
  const after = length - end;
  return after > 0 && after < TILED_QUERY_TOKENS && micro >= 2 * TILED_QUERY_TOKENS ? length - TILED_QUERY_TOKENS : end;
}

export class LlamaEngine implements Engine {
  readonly info: ModelInfo;
  readonly tokenizer: Tokenizer;
  resolved: ResolvedContext;
  private readonly api: LlamaApi;
  private context: Pointer;
  private memory: Pointer;
  private readonly batch: NativeBatch;
  private readonly vocabSize: number;
  private outputPositions: number[] = [];
  /** Logits of the outputs of image rows this step (decoded apart from the rest), by output index. */
  private readonly copiedOutputs = new Map<number, Float32Array>();
  private steps = 0;
  private rowsView: Float32Array | undefined;
  private rowsPointer: Pointer | undefined;
  private rowsStep = -1;
  private readonly threadpools: Pointer[] = [];
  private readonly adapters = new Map<string, Pointer>();
  /** The adapter the context applies now (undefined: the base model). */
  private activeAdapter: string | undefined;

  constructor(
    readonly model: LlamaModel,
    private readonly options: LlamaEngineOptions,
  ) {
    this.api = model.api;
    this.info = model.info();
    this.tokenizer = model.vocabulary;
    this.vocabSize = this.info.vocabSize;
    // Loaded with the model, which frees them with itself.
    for (const { id, path } of options.loraAdapters ?? []) this.loadAdapter(id, path);
    this.context = this.createContext({ sequences: options.maxSequences, sequenceCells: options.sequenceContextSize });
    this.memory = this.api.llama_get_memory(this.context);
    this.resolved = this.readContext();
    this.batch = new NativeBatch(this.api, this.resolved.batchSize);
  }

  get limits(): EngineLimits {
    return {
      sequenceContextSize: this.resolved.sequenceContextSize,
      maxSequences: this.resolved.sequences,
      maxBatchTokens: this.resolved.batchSize,
    };
  }

  private createContext(layout: KvLayout): Pointer {
    const options = this.options;
    const params = this.api.llama_context_default_params() as ContextParams;
    params.n_ctx = layout.sequenceCells * layout.sequences;
    params.n_batch = options.maxBatchTokens;
    params.n_ubatch = Math.min(options.microBatchTokens, options.maxBatchTokens);
    params.n_seq_max = layout.sequences;
    params.n_outputs_max = 0;
    params.n_threads = options.threads;
    params.n_threads_batch = options.threadsBatch;
    params.flash_attn_type = FLASH_ATTN[options.flashAttention];
    if (options.kvCacheType) {
      const type = GGML_TYPES[options.kvCacheType];
      if (type === undefined) throw new Error(`unsupported KV cache type ${options.kvCacheType}`);
      params.type_k = type;
      params.type_v = type;
    }
    // One KV stream per sequence: attention never sees other sequences' cells, which keeps its cost
    // per sequence flat as concurrency grows and, with quantized weights, makes a sequence's logits
    // bit-identical whatever else is in the batch (seeded sampling stays reproducible).
    params.kv_unified = false;
    params.no_perf = true;
    const context = allocatingFromHeap(() => this.api.llama_init_from_model(this.model.handle, params) as Pointer | null);
    if (!context) throw new Error('llama.cpp could not create a context (out of memory for the KV cache?)');
    if (this.threadpools.length === 0) this.createThreadpools(options.threads, options.threadsBatch, THREADPOOL_POLL);
    if (this.threadpools.length > 0)
      this.api.llama_attach_threadpool(context, this.threadpools[0], this.threadpools[1] ?? this.threadpools[0]);
    return context;
  }

  loadAdapter(id: string, path: string): void {
    if (this.adapters.has(id)) throw new Error(`LoRA adapter ${id} is already loaded`);
    const adapter = this.api.llama_adapter_lora_init(this.model.handle, path) as Pointer | null;
    if (!adapter) throw new Error(`LoRA adapter ${id} could not be loaded for this model (llama.cpp's log says why)`);
    if (Number(this.api.llama_adapter_get_alora_n_invocation_tokens(adapter)) > 0) {
      this.api.llama_adapter_lora_free(adapter);
      throw new Error(`LoRA adapter ${id} is an activated LoRA (aLoRA): not supported; give a plain LoRA`);
    }
    this.adapters.set(id, adapter);
  }

  unloadAdapter(id: string): void {
    const adapter = this.adapters.get(id);
    if (!adapter) throw new Error(`LoRA adapter ${id} is not loaded`);
    if (this.activeAdapter === id) this.setAdapter(undefined);
    this.adapters.delete(id);
    this.api.llama_adapter_lora_free(adapter);
  }

  /** Applies `adapter` (undefined: none) to the following decodes. */
  setAdapter(adapter: string | undefined): void {
    if (adapter === this.activeAdapter) return;
    const pointer = adapter === undefined ? undefined : this.adapters.get(adapter);
    if (adapter !== undefined && !pointer) throw new Error(`unknown LoRA adapter ${adapter}`);
    const status = pointer
      ? this.api.llama_set_adapters_lora(this.context, [pointer], 1, new Float32Array([1]))
      : this.api.llama_set_adapters_lora(this.context, null, 0, null);
    if (status !== 0) throw new Error(`llama.cpp refused LoRA adapter ${adapter ?? '(none)'} (status ${status})`);
    this.activeAdapter = adapter;
  }

  private readContext(): ResolvedContext {
    const context = this.context;
    return {
      contextSize: this.api.llama_n_ctx(context),
      sequenceContextSize: this.api.llama_n_ctx_seq(context),
      batchSize: this.api.llama_n_batch(context),
      microBatchSize: this.api.llama_n_ubatch(context),
      sequences: this.api.llama_n_seq_max(context),
      threads: this.api.llama_n_threads(context),
      threadsBatch: this.api.llama_n_threads_batch(context),
      weightsInHugePages: this.model.hugePageBytes,
    };
  }

  /**
   * Replaces the KV cache by one of another layout (or, when that cannot be created, by the same
   * layout again, and throws). The cells of the sequences in `keep` are moved
   * (copied out byte for byte, then into their new sequence ids), so they continue exactly where
   * they were; every other cell is dropped.
   */
  relayout(layout: KvLayout, keep: ReadonlyArray<{ from: number; to: number }>): void {
    const saved = keep.map(({ from, to }) => {
      const size = Number(this.api.llama_state_seq_get_size(this.context, from));
      const data = Buffer.allocUnsafe(size);
      const written = Number(this.api.llama_state_seq_get_data(this.context, data, size, from));
      if (written !== size) throw new Error(`could not save the KV cells of sequence ${from}`);
      return { to, data };
    });
    const previous: KvLayout = { sequences: this.resolved.sequences, sequenceCells: this.resolved.sequenceContextSize };
    this.api.llama_free(this.context);
    let failure: unknown;
    try {
      this.context = this.createContext(layout);
    } catch (error) {
      // Back to the layout that was (its memory was just freed), the sequences with it.
      failure = error;
      this.context = this.createContext(previous);
    }
    this.memory = this.api.llama_get_memory(this.context);
    this.resolved = this.readContext();
    // A new context applies no adapter.
    this.activeAdapter = undefined;
    this.rowsView = undefined;
    this.rowsPointer = undefined;
    for (const { to, data } of saved) {
      const state = restreamSequenceState(data, this.resolved.sequences);
      if (!state) continue;
      const read = Number(this.api.llama_state_seq_set_data(this.context, state, state.length, to));
      if (read === 0) throw new Error(`could not restore the KV cells of sequence ${to}`);
    }
    if (failure)
      throw new KvLayoutUnavailableError(
        `the KV cache could not be laid out as ${layout.sequences} x ${layout.sequenceCells} cells: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
  }

  static create(options: LlamaEngineOptions): LlamaEngine {
    const model = LlamaModel.load(options.modelPath, options);
    try {
      return new LlamaEngine(model, options);
    } catch (error) {
      model.free();
      throw error;
    }
  }

  /**
   * A prompt chunk of TILED_QUERY_TOKENS or more that needs no logits is decoded before the rest,
   * alone or with chunks of the same length, in micro-batches of at least that many tokens:
   * llama.cpp splits a batch so that each micro-batch holds as many tokens of every sequence in it
   * as of the shortest, and part of a chunk would otherwise be computed by the other attention
   * kernel, depending on what else the step holds. The passes over the weights are as many.
   */
  decode(entries: StepEntry[]): void {
    const micro = this.resolved.microBatchSize;
    const rest: StepEntry[] = [];
    const byLength = new Map<number, StepEntry[]>();
    this.copiedOutputs.clear();
    let outputsBefore = 0;
    for (const entry of entries) {
      const length = entry.tokens.length;
      if (entry.embeddings) {
        this.decodeEmbeddings(entry, entry.embeddings, micro);
        if (entry.outputs === 'last') this.copiedOutputs.set(outputsBefore, this.logitRows().slice(0, this.vocabSize));
      }
      outputsBefore += entry.outputs === 'all' ? length : entry.outputs === 'last' ? 1 : 0;
      if (entry.embeddings) continue;
      if (entry.outputs !== 'none' || length < TILED_QUERY_TOKENS) rest.push(entry);
      else if (length * 2 <= micro) byLength.set(length, [...(byLength.get(length) ?? []), entry]);
      else this.decodeLongChunk(entry, micro);
    }
    for (const [length, group] of byLength) {
      const perCall = Math.floor(micro / length);
      for (let i = 0; i < group.length; i += perCall) this.decodeBatch(group.slice(i, i + perCall));
    }
    this.decodeBatch(rest);
  }

  /**
   * Image rows, alone: in micro-batches as a long chunk is (none shorter than TILED_QUERY_TOKENS
   * where it can be helped), or with causal attention off in one micro-batch (Gemma 3).
   */
  private decodeEmbeddings(entry: StepEntry, embeddings: NonNullable<StepEntry['embeddings']>, micro: number): void {
    const width = this.info.embeddingSize;
    const count = entry.tokens.length;
    if (embeddings.rows.length !== count * width)
      throw new Error(`image rows of ${embeddings.rows.length} values for ${count} positions of width ${width}`);
    if (embeddings.nonCausal && count > micro)
      throw new Error(`an image of ${count} rows decoded without causal attention needs a micro-batch of as many (it is ${micro})`);
    const step = embeddings.nonCausal ? count : micro;
    for (let start = 0; start < count;) {
      const end = chunkEnd(start, count, step, micro);
      const n = end - start;
      this.batch.reserveEmbeddings(n * width);
      this.batch.embd.set(embeddings.rows.subarray(start * width, end * width));
      const { positions, seqIds, outputs } = this.batch;
      const planes = embeddings.planes;
      for (let i = 0; i < n; i++) {
        if (planes) {
          for (let p = 0; p < 4; p++) positions[p * n + i] = planes[p * count + start + i] + (p < 3 ? entry.startPosition : 0);
        } else {
          positions[i] = entry.startPosition + start + i;
        }
        seqIds[i] = entry.sequence;
        outputs[i] = entry.outputs === 'last' && start + i === count - 1 ? 1 : 0;
      }
      this.outputPositions = outputs[n - 1] ? [n - 1] : [];
      this.steps++;
      if (embeddings.nonCausal) this.api.llama_set_causal_attn(this.context, false);
      let status: number;
      try {
        status = this.api.llama_decode(this.context, this.batch.asStruct(n, true)) as number;
      } finally {
        if (embeddings.nonCausal) this.api.llama_set_causal_attn(this.context, true);
      }
      if (status !== 0) throw new Error(status === 1 ? 'no KV cache slot for the image rows' : `llama_decode failed with status ${status}`);
      start = end;
    }
  }

  /** A chunk in micro-batches of its own, none shorter than TILED_QUERY_TOKENS where it can be helped. */
  private decodeLongChunk(entry: StepEntry, micro: number): void {
    for (let start = 0; start < entry.tokens.length;) {
      const end = chunkEnd(start, entry.tokens.length, micro, micro);
      const tokens = Array.prototype.slice.call(entry.tokens, start, end) as number[];
      this.decodeBatch([{ sequence: entry.sequence, tokens, startPosition: entry.startPosition + start, outputs: 'none' }]);
      start = end;
    }
  }

  private decodeBatch(entries: StepEntry[]): void {
    const { tokens, positions, seqIds, outputs } = this.batch;
    const outputPositions: number[] = [];
    let n = 0;
    for (const entry of entries) {
      const count = entry.tokens.length;
      if (n + count > this.resolved.batchSize)
        throw new Error(`step of ${n + count} tokens exceeds the batch size ${this.resolved.batchSize}`);
      for (let i = 0; i < count; i++) {
        tokens[n] = entry.tokens[i];
        positions[n] = entry.startPosition + i;
        seqIds[n] = entry.sequence;
        const wanted = entry.outputs === 'all' || (entry.outputs === 'last' && i === count - 1);
        outputs[n] = wanted ? 1 : 0;
        if (wanted) outputPositions.push(n);
        n++;
      }
    }
    this.outputPositions = outputPositions;
    if (n === 0) return;
    this.steps++;
    const status = this.api.llama_decode(this.context, this.batch.asStruct(n));
    if (status !== 0) {
      throw new Error(status === 1 ? 'no KV cache slot for the batch' : `llama_decode failed with status ${status}`);
    }
  }

  logitsAt(outputIndex: number): Float32Array {
    const copied = this.copiedOutputs.get(outputIndex);
    if (copied) return copied;
    // Outputs of image rows were decoded apart and copied: the step's last decode holds the others.
    let index = outputIndex;
    for (const k of this.copiedOutputs.keys()) if (k < outputIndex) index--;
    if (index >= this.outputPositions.length) throw new Error(`no logits for output ${outputIndex}`);
    const rows = this.logitRows();
    return rows.subarray(index * this.vocabSize, (index + 1) * this.vocabSize);
  }

  /**
   * The logits of this step's outputs, one row per output in batch order. A view of native memory
   * costs tens of microseconds to create, so it is kept while llama.cpp keeps the same buffer.
   */
  private logitRows(): Float32Array {
    const length = this.outputPositions.length * this.vocabSize;
    if (this.rowsView === undefined || this.rowsView.length < length || this.rowsStep !== this.steps) {
      const ptr = this.api.llama_get_logits(this.context) as Pointer | null;
      if (!ptr) throw new Error('llama.cpp returned no logits');
      if (this.rowsView === undefined || ptr !== this.rowsPointer || this.rowsView.length < length) {
        this.rowsView = new Float32Array(this.api.view(ptr, length * 4));
        this.rowsPointer = ptr;
      }
      this.rowsStep = this.steps;
    }
    return this.rowsView;
  }

  /**
   * Thread pools kept for the engine's life, as llama.cpp's own tools do: ggml would otherwise
   * create and join its worker threads in every decode. With different thread counts for single
   * tokens and batches, each count gets its own pool.
   */
  private createThreadpools(threads: number, threadsBatch: number, poll: number): void {
    const single = this.api.createThreadpool(threads, poll);
    if (!single) return;
    this.threadpools.push(single);
    if (threadsBatch !== threads) {
      const batch = this.api.createThreadpool(threadsBatch, poll);
      if (batch) this.threadpools.push(batch);
    }
  }

  copySequence(source: number, destination: number): void {
    this.api.llama_memory_seq_cp(this.memory, source, destination, -1, -1);
  }

  truncateSequence(sequence: number, position: number): void {
    this.api.llama_memory_seq_rm(this.memory, sequence, position, -1);
  }

  reset(): void {
    this.api.llama_memory_clear(this.memory, true);
  }

  close(): void {
    this.api.llama_free(this.context);
    for (const threadpool of this.threadpools) this.api.freeThreadpool(threadpool);
    this.model.free();
  }
}

/**
 * A sequence's saved KV state, made readable by a cache of `streams` streams. llama.cpp (this
 * release) writes a magic number and the sequence id (u32 each), the stream count (u32), then per
 * stream its cell count (u32) followed, when not zero, by the cells. It refuses a state of another
 * stream count, yet restores the one non-empty stream of a sequence into the destination
 * sequence's stream whatever its index. Undefined: the sequence has no cells.
 */
function restreamSequenceState(data: Buffer, streams: number): Buffer | undefined {
  const HEADER = 8;
  const saved = data.readUInt32LE(HEADER);
  let offset = HEADER + 4;
  for (let s = 0; s < saved && offset + 4 <= data.length; s++, offset += 4) {
    if (data.readUInt32LE(offset) === 0) continue;
    const length = data.length - HEADER - 4 - 4 * (saved - 1);
    const state = Buffer.alloc(HEADER + 4 + length + 4 * (streams - 1));
    data.copy(state, 0, 0, HEADER);
    state.writeUInt32LE(streams, HEADER);
    data.copy(state, HEADER + 4, offset, offset + length);
    return state;
  }
  return undefined;
}
