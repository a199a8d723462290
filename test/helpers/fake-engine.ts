// An Engine without a model, for scheduler tests: a word-per-token vocabulary, scripted token
// choices, and a record of everything the scheduler asked of it (decode batches, KV operations).
// It keeps each sequence's KV cells as the tokens written to them, so that it can check what a
// real backend would require (a batch continues a sequence where its cells end, fits the batch and
// the layout) and scripted choices can depend on a sequence's whole context. Deterministic.
import {
  KvLayoutUnavailableError,
  type Engine,
  type EngineLimits,
  type KvLayout,
  type ModelInfo,
  type StepEntry,
} from '../../src/engine/types.js';
import type { FillInTheMiddleTokens, Tokenizer, TokenSpan } from '../../src/core/tokenizer.js';

export const BOS = 0;
export const EOS = 1;

/** Token `id` (2 and up) reads as ` w<id>`; BOS and EOS are special and read as nothing in generated text. */
export function wordOf(id: number): string {
  return id === BOS ? '<s>' : id === EOS ? '</s>' : ` w${id}`;
}

/** The ids of a text of words ` w<id>` (the inverse of wordOf for ordinary tokens). */
export function idsOf(text: string): number[] {
  return [...text.matchAll(/w(\d+)/g)].map((m) => Number(m[1]));
}

export class FakeTokenizer implements Tokenizer {
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly fillInTheMiddle: FillInTheMiddleTokens | undefined = undefined;

  constructor(readonly vocabSize: number) {}

  tokenize(text: string, addSpecial: boolean): Int32Array {
    return Int32Array.from(addSpecial ? [BOS, ...idsOf(text)] : idsOf(text));
  }

  tokenizeWithOffsets(text: string, addSpecial = false): TokenSpan[] {
    const spans: TokenSpan[] = addSpecial ? [{ id: BOS, start: 0, stop: 0 }] : [];
    for (const m of text.matchAll(/ ?w(\d+)/g)) spans.push({ id: Number(m[1]), start: m.index, stop: m.index + m[0].length });
    return spans;
  }

  decodeBytes(ids: ArrayLike<number>, keepSpecial: boolean): Uint8Array {
    return new TextEncoder().encode(this.decode(ids, keepSpecial));
  }

  decode(ids: ArrayLike<number>, keepSpecial: boolean): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) if (keepSpecial || !this.isSpecial(ids[i])) text += wordOf(ids[i]);
    return text;
  }

  tokenBytes(id: number): Uint8Array {
    return this.isSpecial(id) ? new Uint8Array() : new TextEncoder().encode(wordOf(id));
  }

  tokenText(id: number): string {
    return wordOf(id);
  }

  isSpecial(id: number): boolean {
    return id === BOS || id === EOS;
  }

  isEndOfGeneration(id: number): boolean {
    return id === EOS;
  }
}

/** One decode call as the scheduler planned it (tokens copied). */
export interface RecordedBatch {
  adapter: string | undefined;
  entries: {
    sequence: number;
    tokens: number[];
    startPosition: number;
    outputs: StepEntry['outputs'];
    /** Set for image rows: how many floats, and whether causal attention was off. */
    image?: { floats: number; nonCausal: boolean };
  }[];
}

export type KvOperation =
  | { kind: 'decode'; batch: RecordedBatch }
  | { kind: 'copy'; source: number; destination: number }
  | { kind: 'truncate'; sequence: number; position: number }
  | { kind: 'relayout'; layout: KvLayout; keep: { from: number; to: number }[] }
  | { kind: 'reset' };

/**
 * The next token of a sequence whose cells hold `context` (prompt and generated tokens so far, the
 * token just decoded last).
 */
export type NextToken = (context: readonly number[]) => number;

export interface FakeEngineOptions {
  vocabSize?: number;
  /** The initial KV layout. */
  maxSequences?: number;
  sequenceContextSize?: number;
  /** Most tokens one decode accepts. */
  maxBatchTokens?: number;
  /** The scripted choice (greedy picks it); by default a word that depends only on the context's length. */
  next?: NextToken;
}

/** The default script: w2, w3, ... cycling through the vocabulary, never a special token. */
export function countingNext(vocabSize: number): NextToken {
  return (context) => 2 + (context.length % (vocabSize - 2));
}

export class FakeEngine implements Engine {
  readonly info: ModelInfo;
  readonly tokenizer: FakeTokenizer;
  /** Everything asked of the engine, in order. */
  readonly operations: KvOperation[] = [];
  /** What a real backend would have refused (empty when the scheduler behaved). */
  readonly violations: string[] = [];
  /** Set to make decodes fail: returns the error message for a batch, or undefined to let it run. */
  failDecode: ((batch: RecordedBatch) => string | undefined) | undefined;
  /** Set to make the next relayouts fail for lack of memory (the old layout stays). */
  relayoutUnavailable = false;
  next: NextToken;
  private layout: KvLayout;
  private readonly maxBatchTokens: number;
  private readonly cells = new Map<number, number[]>();
  private outputs: Float32Array[] = [];
  private adapter: string | undefined;
  readonly adapters = new Set<string>();
  closed = false;

  constructor(options: FakeEngineOptions = {}) {
    const vocabSize = options.vocabSize ?? 64;
    this.tokenizer = new FakeTokenizer(vocabSize);
    this.layout = { sequences: options.maxSequences ?? 4, sequenceCells: options.sequenceContextSize ?? 256 };
    this.maxBatchTokens = options.maxBatchTokens ?? 512;
    this.next = options.next ?? countingNext(vocabSize);
    this.info = {
      path: 'fake.gguf',
      name: 'fake',
      architecture: 'fake',
      description: 'F32',
      parameterCount: 0,
      sizeBytes: 0,
      trainedContext: 4096,
      embeddingSize: 8,
      layers: 1,
      heads: 1,
      kvHeads: 1,
      vocabSize,
      vocabType: 'fake',
      bosId: BOS,
      eosId: EOS,
      endOfGenerationIds: [EOS],
      addBos: true,
    };
  }

  get limits(): EngineLimits {
    return { sequenceContextSize: this.layout.sequenceCells, maxSequences: this.layout.sequences, maxBatchTokens: this.maxBatchTokens };
  }

  /** The decode batches so far. */
  get batches(): RecordedBatch[] {
    return this.operations.flatMap((op) => (op.kind === 'decode' ? [op.batch] : []));
  }

  /** The tokens a sequence's KV cells hold. */
  cellsOf(sequence: number): readonly number[] {
    return this.cells.get(sequence) ?? [];
  }

  decode(entries: StepEntry[]): void {
    const batch: RecordedBatch = {
      adapter: this.adapter,
      entries: entries.map((e) => ({
        sequence: e.sequence,
        tokens: Array.from(e.tokens),
        startPosition: e.startPosition,
        outputs: e.outputs,
        ...(e.embeddings ? { image: { floats: e.embeddings.rows.length, nonCausal: e.embeddings.nonCausal } } : {}),
      })),
    };
    this.operations.push({ kind: 'decode', batch });
    this.outputs = [];
    const failure = this.failDecode?.(batch);
    if (failure !== undefined) throw new Error(failure);
    const size = batch.entries.reduce((sum, e) => sum + e.tokens.length, 0);
    if (size === 0) this.violations.push('an empty batch');
    if (size > this.maxBatchTokens) this.violations.push(`a batch of ${size} tokens, more than ${this.maxBatchTokens}`);
    for (const entry of batch.entries) {
      if (entry.sequence < 0 || entry.sequence >= this.layout.sequences)
        this.violations.push(`sequence ${entry.sequence} outside the layout of ${this.layout.sequences}`);
      const cells = this.cells.get(entry.sequence) ?? [];
      if (entry.startPosition !== cells.length)
        this.violations.push(`sequence ${entry.sequence} written at ${entry.startPosition}, its cells end at ${cells.length}`);
      cells.length = Math.min(cells.length, entry.startPosition);
      for (const token of entry.tokens) {
        cells.push(token);
        if (entry.outputs === 'all') this.outputs.push(this.logitsFor(cells));
      }
      if (cells.length > this.layout.sequenceCells)
        this.violations.push(`sequence ${entry.sequence} holds ${cells.length} cells, more than ${this.layout.sequenceCells}`);
      if (entry.outputs === 'last') this.outputs.push(this.logitsFor(cells));
      this.cells.set(entry.sequence, cells);
    }
  }

  private logitsFor(context: readonly number[]): Float32Array {
    const logits = new Float32Array(this.tokenizer.vocabSize);
    logits[this.next(context)] = 1;
    return logits;
  }

  logitsAt(outputIndex: number): Float32Array {
    const logits = this.outputs[outputIndex];
    if (!logits) throw new Error(`no output ${outputIndex}: the batch had ${this.outputs.length}`);
    return logits;
  }

  setAdapter(adapter: string | undefined): void {
    this.adapter = adapter;
  }

  loadAdapter(id: string): void {
    this.adapters.add(id);
  }

  unloadAdapter(id: string): void {
    this.adapters.delete(id);
  }

  copySequence(source: number, destination: number): void {
    this.operations.push({ kind: 'copy', source, destination });
    this.cells.set(destination, [...(this.cells.get(source) ?? [])]);
  }

  truncateSequence(sequence: number, position: number): void {
    this.operations.push({ kind: 'truncate', sequence, position });
    this.cells.set(sequence, (this.cells.get(sequence) ?? []).slice(0, position));
  }

  relayout(layout: KvLayout, keep: ReadonlyArray<{ from: number; to: number }>): void {
    this.operations.push({ kind: 'relayout', layout: { ...layout }, keep: keep.map((k) => ({ ...k })) });
    // Either way the kept sequences move to their new ids (into the old layout when the new one fails).
    const kept = keep.map(({ from, to }): [number, number[]] => [to, [...this.cellsOf(from)]]);
    this.cells.clear();
    for (const [to, tokens] of kept) this.cells.set(to, tokens);
    if (this.relayoutUnavailable)
      throw new KvLayoutUnavailableError(`no memory for ${layout.sequences} sequences of ${layout.sequenceCells} cells`);
    this.layout = { ...layout };
    this.adapter = undefined;
  }

  reset(): void {
    this.operations.push({ kind: 'reset' });
    this.cells.clear();
  }

  close(): void {
    this.closed = true;
  }
}

/** `length` prompt ids from `first` on (staying clear of BOS and EOS), cycling through the vocabulary. */
export function promptIds(first: number, length: number, vocabSize = 64): number[] {
  return Array.from({ length }, (_, i) => 2 + ((first + i) % (vocabSize - 2)));
}
