// Continuous batching: FIFO admission under the KV pool's token budget (a request reserves its
// prompt + max_new_tokens), then one engine decode per step carrying the next token of every running
// sequence plus chunks of prompts being prefilled.
import type { Engine, StepEntry } from '../engine/types.js';
import type { EngineEvent, GenerationRequest, PrefillToken } from '../core/request.js';
import type { SchedulerState, StepRecord } from '../core/backend.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import type { TokenChoice } from '../sampling/sampler.js';
import { decodeGenerated } from './detokenizer.js';
import { RunningSequence } from './sequence.js';
import { Grammars } from '../grammar/grammars.js';
import type { CompiledConstraint } from '../grammar/constraint.js';
import { SlotTable, type SlotView } from './slots.js';
import { positionOf, reusePoints, tiledPrefix, wholeImage } from './image-prompt.js';
import { fitsPool, layoutFor, type KvPool } from './kv-layout.js';
import { KvLayoutUnavailableError, TILED_QUERY_TOKENS, type KvLayout } from '../engine/types.js';

export interface SchedulerLimits {
  /** Most requests running at once. */
  maxSequences: number;
  /** KV cells of the pool, all sequences together. */
  poolCells: number;
  /** Prompt tokens prefilled per step, across requests. */
  maxPrefillTokens: number;
  /** Reuse KV cells of earlier or running requests that share a prompt prefix. */
  prefixCaching: boolean;
}

/** The scheduler's figures and step records are part of the backend's contract (core/backend.ts). */
export type { SchedulerState, StepRecord } from '../core/backend.js';

function countByAdapter(requests: Iterable<GenerationRequest>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of requests) if (request.adapter !== undefined) counts[request.adapter] = (counts[request.adapter] ?? 0) + 1;
  return counts;
}

/** An adapter cannot be unloaded while requests use it. */
export class AdapterInUseError extends Error {}

interface Waiting {
  request: GenerationRequest;
  reservation: number;
  constraint?: CompiledConstraint;
}

interface Planned {
  sequence: RunningSequence;
  entry: StepEntry;
}

const now = () => performance.timeOrigin + performance.now();

/**
 * A prompt token after N cached tokens counts as 1 + N / ATTENTION_COST_SPAN tokens of the prefill
 * budget. Tuned on the shared-prefix benchmark: questions behind a 1,000-token shared prompt are
 * then finished one or two per step, which brought their median time to first token from 2.1 s
 * to 1.4 s.
 */
const ATTENTION_COST_SPAN = 64;
/**
 * Smallest chunk of a longer prompt: llama.cpp's CPU flash attention uses its fast tiled kernel
 * from 64 query tokens per sequence (the engine decodes such a chunk alone).
 */
const MIN_PREFILL_CHUNK = TILED_QUERY_TOKENS;
/** A burst of prompts shares the prefill steps in groups of at most this many steps' budget. */
const BURST_STEPS = 4;
/**
 * Steps an adapter set runs in a row while other sets wait. Measured on the benchmark model, 16
 * streams over 2 (4) adapters: tokens/s 0.55x (0.37x) of one adapter's when sets alternate every
 * step, 0.71x (0.51x) with 8 steps, 0.72x (0.50x) with 16, whose inter-token p99 doubles.
 */
const ADAPTER_SLICE_STEPS = 8;
const GATHER_QUIET_MS = 3;
const GATHER_MAX_ROUNDS = 5;
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  private readonly waiting: Waiting[] = [];
  private running: RunningSequence[] = [];
  private slots: SlotTable;
  private readonly tile: number;
  private readonly pool: KvPool;
  private relayouts = 0;
  private readonly grammars: Grammars;
  private reserved = 0;
  private reusedPromptTokens = 0;
  private prefixCacheHits = 0;
  private prefilledTokens = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  private stepRecords: StepRecord[] = [];
  /** The adapter served at the last step ('' for the base model), and for how many steps in a row. */
  private lastTurn: string | null = null;
  private turnSteps = 0;

  constructor(
    private readonly engine: Engine,
    private readonly limits: SchedulerLimits,
    private readonly emit: (events: EngineEvent[], state: SchedulerState) => void,
    private readonly watermark: WatermarkSettings,
  ) {
    this.pool = { cells: limits.poolCells, maxSequences: limits.maxSequences };
    // Under a budget below a tiled chunk every prompt is computed query by query.
    this.tile = limits.maxPrefillTokens >= TILED_QUERY_TOKENS ? TILED_QUERY_TOKENS : 0;
    this.slots = new SlotTable(engine.limits.maxSequences, limits.prefixCaching, 0, this.tile);
    this.grammars = new Grammars(engine.tokenizer);
  }

  get state(): SchedulerState {
    return {
      waiting: this.waiting.length,
      running: this.running.length,
      reservedTokens: this.reserved,
      reusedPromptTokens: this.reusedPromptTokens,
      prefilledTokens: this.prefilledTokens,
      prefixCacheHits: this.prefixCacheHits,
      usedCells: this.running.reduce((sum, sequence) => sum + sequence.cached, 0),
      totalCells: this.pool.cells,
      layout: { sequences: this.engine.limits.maxSequences, sequenceCells: this.engine.limits.sequenceContextSize },
      relayouts: this.relayouts,
      adapters: {
        running: countByAdapter(this.running.map((s) => s.request)),
        waiting: countByAdapter(this.waiting.map((w) => w.request)),
      },
    };
  }

  /** Loads a LoRA adapter between two steps. */
  loadAdapter(id: string, path: string): void {
    this.engine.loadAdapter(id, path);
  }

  /** Frees a LoRA adapter no request uses, and forgets the prompts cached under it. */
  unloadAdapter(id: string): void {
    const users = this.running.filter((s) => s.request.adapter === id).length + this.waiting.filter((w) => w.request.adapter === id).length;
    if (users > 0) throw new AdapterInUseError(`LoRA adapter ${id} has ${users} request${users === 1 ? '' : 's'} running or waiting`);
    this.engine.unloadAdapter(id);
    this.slots.forgetAdapter(id);
  }

  /** The records of the steps since the last call. */
  takeStepRecords(): StepRecord[] {
    const records = this.stepRecords;
    this.stepRecords = [];
    return records;
  }

  submit(request: GenerationRequest): void {
    const reservation = request.inputIds.length + request.maxNewTokens;
    if (!fitsPool(this.pool, cellsNeeded(reservation))) {
      this.emit(
        [
          {
            kind: 'error',
            requestId: request.id,
            failure: 'capacity',
            message: `request needs ${reservation} KV cells (prompt + max_new_tokens), more than the pool of ${this.pool.cells} (--max-batch-total-tokens) holds`,
          },
        ],
        this.state,
      );
      return;
    }
    let constraint: CompiledConstraint | undefined;
    if (request.grammar) {
      try {
        constraint = this.grammars.constraint(request.grammar);
      } catch (error) {
        this.emit(
          [
            {
              kind: 'error',
              requestId: request.id,
              failure: 'grammar',
              message: `grammar is not valid: ${error instanceof Error ? error.message : String(error)}`,
            },
          ],
          this.state,
        );
        return;
      }
    }
    this.waiting.push({ request, reservation, constraint });
    this.wake?.();
  }

  /** Forgets a request whose client left: a waiting one is dequeued, a running one freed now. */
  cancel(requestId: number): void {
    const queued = this.waiting.findIndex((w) => w.request.id === requestId);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      this.emit([{ kind: 'dropped', requestId }], this.state);
      return;
    }
    const sequence = this.running.find((s) => s.request.id === requestId);
    if (sequence) {
      this.release(sequence);
      this.running = this.running.filter((s) => s !== sequence);
      this.emit([{ kind: 'dropped', requestId }], this.state);
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async run(): Promise<void> {
    while (!this.closed) {
      if (this.running.length === 0 && this.waiting.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        await this.gatherArrivals();
        continue;
      }
      this.step();
      // Let submissions and cancellations arrive between steps.
      await yieldToEvents();
    }
  }

  /**
   * Requests sent together reach an idle engine a millisecond or so apart (each is parsed,
   * validated and tokenized in turn): waiting until none has arrived for 3 ms (15 ms at most) lets
   * them start in one step, rather than the first alone and the others one step later.
   */
  private async gatherArrivals(): Promise<void> {
    for (let round = 0; round < GATHER_MAX_ROUNDS && !this.closed; round++) {
      const before = this.waiting.length;
      await new Promise<void>((resolve) => setTimeout(resolve, GATHER_QUIET_MS));
      if (this.waiting.length === before) return;
    }
  }

  /**
   * The adapter (undefined: the base model) whose sequences run at this step. Sets take turns in a
   * fixed order (the base model first), each for up to ADAPTER_SLICE_STEPS steps in a row: a change
   * of adapter makes llama.cpp reserve its compute graph anew at the next decode, which costs more
   * than a step (see ADAPTER_SLICE_STEPS).
   */
  private nextAdapterTurn(): string | undefined {
    const keys = [...new Set(this.running.map((sequence) => sequence.request.adapter ?? ''))].sort();
    const current = this.lastTurn;
    if (current !== null && keys.includes(current) && (keys.length === 1 || this.turnSteps < ADAPTER_SLICE_STEPS)) {
      this.turnSteps++;
    } else {
      this.lastTurn = keys.find((key) => current === null || key > current) ?? keys[0];
      this.turnSteps = 1;
    }
    return this.lastTurn === '' ? undefined : this.lastTurn!;
  }

  /** Admits waiting requests the pool holds now; returns how many. */
  private admit(): number {
    if (this.waiting.length === 0) return 0;
    let admitted = 0;
    let busy = this.busySlots();
    for (let i = 0; i < this.waiting.length;) {
      const { request, reservation, constraint } = this.waiting[i];
      if (cellsNeeded(reservation) > this.engine.limits.sequenceContextSize || this.slots.available === 0) {
        // The first request that the current layout cannot hold: lay the pool out anew if some
        // layout holds it beside every running request, else it waits (and the queue behind it).
        const layout = layoutFor(
          this.pool,
          [...this.running, { reservation }].map((s) => cellsNeeded(s.reservation)),
        );
        if (!layout || sameLayout(layout, this.engine.limits)) break;
        try {
          this.relayout(layout);
        } catch (error) {
          if (!(error instanceof KvLayoutUnavailableError)) {
            this.failAll(error instanceof Error ? error.message : String(error));
            return admitted;
          }
          // Out of memory for the new layout: the running sequences continue in the old one; the
          // request that needed it fails rather than waiting for a layout that cannot be made.
          this.waiting.splice(i, 1);
          this.emit(
            [{ kind: 'error', requestId: request.id, failure: 'engine', message: error instanceof Error ? error.message : String(error) }],
            this.state,
          );
          busy = this.busySlots();
          continue;
        }
        busy = this.busySlots();
      }
      const images = request.images?.length ? request.images : undefined;
      const placement = this.slots.place(
        request.inputIds,
        busy,
        !request.prefillLogprobs,
        request.adapter,
        images && reusePoints(request.inputIds.length, images, this.tile),
      );
      if (placement.kind === 'full') break;
      if (placement.kind === 'defer') {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      if (placement.copyFrom !== undefined) this.engine.copySequence(placement.copyFrom, placement.slot);
      this.engine.truncateSequence(placement.slot, positionOf(request.images, placement.reuse));
      this.reserved += reservation;
      this.reusedPromptTokens += placement.reuse;
      if (placement.reuse > 0) this.prefixCacheHits++;
      const sequence = new RunningSequence(
        request,
        placement.slot,
        reservation,
        placement.reuse,
        now(),
        this.engine,
        this.watermark,
        constraint?.start(),
      );
      this.running.push(sequence);
      busy.set(sequence.slot, this.slotView(sequence));
      admitted++;
    }
    return admitted;
  }

  /** The running sequences' slots and what their cells hold. */
  private busySlots(): Map<number, SlotView> {
    return new Map(this.running.map((sequence) => [sequence.slot, this.slotView(sequence)]));
  }

  private slotView(sequence: RunningSequence): SlotView {
    return sequence.slotView(this.tiledCells(sequence));
  }

  /** Leading cells of a sequence's prompt that the tiled kernel computes as a text prompt's body. */
  private tiledCells(sequence: RunningSequence): number {
    const images = sequence.request.images;
    return images?.length ? tiledPrefix(images, this.tile) : this.slots.tiledCells(sequence.promptLength);
  }

  /**
   * Divides the pool anew: running sequences keep their cells (moved to sequence ids 0..n-1, one
   * consecutive run); the prompts cached in free slots are dropped.
   */
  private relayout(layout: KvLayout): void {
    const kept = [...this.running].sort((a, b) => a.slot - b.slot);
    try {
      this.engine.relayout(
        layout,
        kept.map((sequence, index) => ({ from: sequence.slot, to: index })),
      );
    } finally {
      // Moved either way: to the new layout, or back into the old one.
      kept.forEach((sequence, index) => (sequence.slot = index));
      this.slots = new SlotTable(this.engine.limits.maxSequences, this.limits.prefixCaching, kept.length, this.tile);
    }
    this.relayouts++;
  }

  private release(sequence: RunningSequence): void {
    // A prompt computed for its logprobs was chunked otherwise (see planPrompt): its cells are not shared.
    const tokens = sequence.request.prefillLogprobs ? [] : sequence.ids.slice(0, sequence.cached);
    this.slots.release(sequence.slot, tokens, sequence.request.adapter, Math.min(sequence.cached, this.tiledCells(sequence)));
    this.reserved -= sequence.reservation;
  }

  step(): void {
    const started = now();
    const alreadyRunning = this.running.length;
    const admitted = this.admit();
    const joinedRunning = admitted > 0 && alreadyRunning > 0;
    if (this.running.length === 0) return;
    // llama.cpp applies one adapter set to a whole decode: each step serves one set's sequences,
    // the sets taking turns.
    const adapter = this.nextAdapterTurn();
    const turn = this.running.filter((sequence) => sequence.request.adapter === adapter);
    const planned: Planned[] = [];
    for (const sequence of turn) {
      if (sequence.prefilling) continue;
      planned.push({
        sequence,
        entry: {
          sequence: sequence.slot,
          tokens: sequence.pendingTokens(1),
          startPosition: sequence.position(sequence.cached),
          outputs: 'last',
        },
      });
    }
    const prefilling = turn.filter((sequence) => sequence.prefilling);
    if (planned.length === 0 && prefilling.length > 1 && prefilling.every((sequence) => sequence.reused === 0)) {
      this.planBurst(prefilling, planned);
    } else {
      this.planPrefill(prefilling, planned);
    }

    // llama.cpp splits a batch into one compute pass per run of consecutive sequence ids: in slot
    // order, the running sequences form as few runs as possible.
    planned.sort((a, b) => a.entry.sequence - b.entry.sequence);
    const method = planned.some((p) => p.sequence.prefilling) ? 'prefill' : 'decode';
    const events: EngineEvent[] = [];
    const forwardStart = now();
    try {
      this.engine.setAdapter(adapter);
      this.engine.decode(planned.map((p) => p.entry));
    } catch (error) {
      const failed = now();
      this.stepRecords.push({
        method,
        ok: false,
        admitted,
        joinedRunning,
        total: (failed - started) / 1000,
        forward: (failed - forwardStart) / 1000,
        choice: 0,
        filter: 0,
      });
      this.failAll(error instanceof Error ? error.message : String(error));
      return;
    }
    const forwardEnd = now();

    const finished = new Set<RunningSequence>();
    let output = 0;
    for (const { sequence, entry } of planned) {
      const count = entry.tokens.length;
      if (entry.outputs === 'all') {
        for (let k = 0; k < count; k++) {
          const position = sequence.cached + k;
          const logits = this.engine.logitsAt(output++);
          if (position + 1 < sequence.promptLength) {
            const next = sequence.ids[position + 1];
            // An image row has no token whose probability to give.
            const logprob = next >= 0 ? rawLogprob(logits, next) : null;
            sequence.prefill.push(this.prefillToken(next, logprob));
          } else {
            sequence.cached += count;
            events.push({ kind: 'prefill', requestId: sequence.request.id, tokens: sequence.prefill });
            if (this.sample(sequence, logits, events)) finished.add(sequence);
          }
        }
        if (sequence.prefilling) sequence.cached += count;
      } else if (entry.outputs === 'last') {
        const logits = this.engine.logitsAt(output++);
        if (entry.embeddings && sequence.request.prefillLogprobs) {
          this.imagePrefill(sequence, count - 1);
          events.push({ kind: 'prefill', requestId: sequence.request.id, tokens: sequence.prefill });
        }
        sequence.cached += count;
        if (this.sample(sequence, logits, events)) finished.add(sequence);
      } else {
        if (entry.embeddings && sequence.request.prefillLogprobs) this.imagePrefill(sequence, count);
        sequence.cached += count;
      }
    }
    const chosen = now();
    if (finished.size > 0) {
      for (const sequence of finished) this.release(sequence);
      this.running = this.running.filter((s) => !finished.has(s));
    }
    const ended = now();
    this.stepRecords.push({
      method,
      ok: true,
      admitted,
      joinedRunning,
      total: (ended - started) / 1000,
      forward: (forwardEnd - forwardStart) / 1000,
      choice: (chosen - forwardEnd) / 1000,
      filter: (ended - chosen) / 1000,
    });
    if (events.length > 0) this.emit(events, this.state);
  }

  /**
   * Prompts being prefilled while streams decode, or behind a cached prefix. The prefill budget
   * bounds how long running streams wait for a step. It is in units of a token prefilled at the
   * start of a prompt: a token deep in a long context also pays attention over it (llama.cpp's CPU
   * attention is slow for short query runs), so after a long cached prefix fewer tokens fit and
   * prompts that share one are finished one after another rather than all together. When no
   * stream waits, the oldest prompt gets the whole budget.
   */
  private planPrefill(prefilling: RunningSequence[], planned: Planned[]): void {
    let budget = this.limits.maxPrefillTokens;
    let first = true;
    for (const sequence of prefilling) {
      if (budget <= 0) break;
      const weight = first && planned.length === 0 ? 1 : 1 + sequence.cached / ATTENTION_COST_SPAN;
      // The smallest chunk never exceeds the budget: llama.cpp's batch holds the budget plus one
      // token per sequence, and no more.
      const allowance = Math.max(first ? Math.min(MIN_PREFILL_CHUNK, this.limits.maxPrefillTokens) : 1, Math.floor(budget / weight));
      first = false;
      budget -= this.planPrompt(sequence, allowance, planned, Math.max(allowance, Math.floor(budget))) * weight;
    }
  }

  /**
   * New prompts arriving together while no stream decodes (a burst): they share each step's budget
   * evenly, so that they finish, and start streaming, together (the oldest that fill BURST_STEPS
   * steps; the rest follow first come first served once those stream). Finished one after another, each
   * stream's next tokens would wait behind the steps prefilling the rest (TTFT p50 lower, but
   * inter-token gaps of a whole prefill step, 0.5 s here, in every stream started early).
   */
  private planBurst(prefilling: RunningSequence[], planned: Planned[]): void {
    let budget = this.limits.maxPrefillTokens;
    // The oldest prompts that fill BURST_STEPS steps: a larger burst starts in groups, each sooner.
    let group = 0;
    for (
      let tokens = 0;
      group < prefilling.length && (group < 2 || tokens + prefilling[group].promptLength <= BURST_STEPS * budget);
      group++
    ) {
      tokens += prefilling[group].promptLength;
    }
    let left = group;
    for (const sequence of prefilling.slice(0, group)) {
      const share = Math.max(1, Math.ceil(budget / left--));
      if (!this.tiledPrompt(sequence)) {
        budget -= this.planPrompt(sequence, share, planned);
      } else {
        // A whole chunk at least. A chunk shortened to leave a whole one for later still counts
        // its share, so that prompts of one length finish together.
        const allowance = Math.min(budget, Math.max(share, MIN_PREFILL_CHUNK));
        const remaining = sequence.promptLength - sequence.cached;
        const chunk = this.planPrompt(sequence, allowance, planned, budget);
        budget -= chunk > 0 ? Math.max(chunk, Math.min(allowance, remaining)) : 0;
      }
      if (budget <= 0) break;
    }
  }

  /** Whether a prompt's tokens before its last are computed by the tiled attention kernel. */
  private tiledPrompt(sequence: RunningSequence): boolean {
    return !sequence.request.prefillLogprobs && this.slots.tiledCells(sequence.promptLength) > 0;
  }

  /**
   * Plans the next tokens of a prompt, at most `allowance` of them (and its last token); returns
   * how many. Greedy output must not depend on what was cached, nor on what else runs, and
   * llama.cpp's attention rounds differently in its tiled kernel and query by query: every prompt
   * is computed the same way. The tokens before the last go in chunks of at least
   * TILED_QUERY_TOKENS (each decoded alone, by the tiled kernel) when there are that many, the last
   * token with the step's decodes (query by query, as after a fully cached prompt); a shorter
   * prompt in chunks below TILED_QUERY_TOKENS. When a chunk cut by the budget left fewer than
   * TILED_QUERY_TOKENS before the last token, those are computed again with the ones before them.
   * A prompt computed for its logprobs needs logits at every token: it goes in plain chunks.
   * `stretch` (at least `allowance`): how far a chunk may grow to leave no short rest.
   */
  private planPrompt(sequence: RunningSequence, allowance: number, planned: Planned[], stretch = allowance): number {
    if (sequence.segments) return this.planImagePrompt(sequence, allowance, planned);
    if (!this.tiledPrompt(sequence)) {
      const tokens = sequence.pendingTokens(sequence.request.prefillLogprobs ? allowance : Math.min(allowance, TILED_QUERY_TOKENS - 1));
      this.planChunk(sequence, tokens, planned);
      return tokens.length;
    }
    const body = sequence.promptLength - 1;
    let start = sequence.cached;
    let size = 0;
    if (start < body) {
      if (allowance < TILED_QUERY_TOKENS) return 0;
      if (body - start < TILED_QUERY_TOKENS) {
        start = body - TILED_QUERY_TOKENS;
        this.engine.truncateSequence(sequence.slot, start);
        sequence.cached = start;
      }
      size = Math.min(body - start, allowance);
      const after = body - start - size;
      // Leave a whole chunk or nothing for later: shortened, else stretched to the rest when `stretch` allows.
      if (after > 0 && after < TILED_QUERY_TOKENS) {
        if (body - start - TILED_QUERY_TOKENS >= TILED_QUERY_TOKENS) size = body - start - TILED_QUERY_TOKENS;
        else if (body - start <= stretch) size = body - start;
      }
      this.prefilledTokens += size;
      planned.push({
        sequence,
        entry: { sequence: sequence.slot, tokens: sequence.ids.slice(start, start + size), startPosition: start, outputs: 'none' },
      });
    }
    if (start + size < body) return size;
    this.prefilledTokens += 1;
    planned.push({ sequence, entry: { sequence: sequence.slot, tokens: [sequence.ids[body]], startPosition: body, outputs: 'last' } });
    return size + 1;
  }

  private planChunk(sequence: RunningSequence, tokens: ArrayLike<number>, planned: Planned[]): void {
    this.prefilledTokens += tokens.length;
    const completes = sequence.cached + tokens.length === sequence.promptLength;
    const outputs = sequence.request.prefillLogprobs ? 'all' : completes ? 'last' : 'none';
    planned.push({ sequence, entry: { sequence: sequence.slot, tokens, startPosition: sequence.cached, outputs } });
  }

  /** The prompt tokens after `count` image rows from the sequence's cached position: no logprob. */
  private imagePrefill(sequence: RunningSequence, count: number): void {
    for (let k = 0; k < count; k++) {
      const next = sequence.ids[sequence.cached + k + 1];
      sequence.prefill.push(this.prefillToken(next, null));
    }
  }

  /** A prompt token for prompt logprobs; an image row (negative id) has no text. */
  private prefillToken(id: number, logprob: number | null): PrefillToken {
    return { id, text: id >= 0 ? this.engine.tokenizer.tokenText(id) : '', logprob };
  }

  /**
   * Plans the next chunk of a prompt with images: within one segment (image-prompt.ts), at most
   * `allowance` positions unless a segment of a tile or more needs a whole tile, or a non-causal
   * image must go whole (then by the first prompt planned in the step). Returns how many.
   */
  private planImagePrompt(sequence: RunningSequence, allowance: number, planned: Planned[]): number {
    const segments = sequence.segments!;
    const cached = sequence.cached;
    const segment = segments.find((s) => s.start <= cached && cached < s.end)!;
    const length = segment.end - segment.start;
    const image = segment.image;
    let from = cached;
    let end: number;
    if (image && wholeImage(image)) {
      from = segment.start;
      if (length > allowance && planned.some((p) => p.sequence.prefilling)) return 0;
      end = segment.end;
    } else if (this.tile > 0 && length >= this.tile) {
      if (allowance < this.tile) return 0;
      if (segment.end - from < this.tile) from = segment.end - this.tile;
      let size = Math.min(segment.end - from, allowance);
      const after = segment.end - from - size;
      // Leave a whole tile or nothing for later.
      if (after > 0 && after < this.tile)
        size = segment.end - from - this.tile >= this.tile ? segment.end - from - this.tile : segment.end - from;
      end = from + size;
    } else {
      end = Math.min(segment.end, from + Math.max(1, this.tile > 0 ? Math.min(allowance, this.tile - 1) : allowance));
    }
    if (from < cached) {
      this.engine.truncateSequence(sequence.slot, sequence.position(from));
      sequence.cached = from;
    }
    const completes = end === sequence.promptLength;
    const entry: StepEntry = {
      sequence: sequence.slot,
      tokens: sequence.ids.slice(from, end),
      startPosition: sequence.position(from),
      // With prompt logprobs, text gives logits at every token (the last one's choose the first generated token).
      outputs: sequence.request.prefillLogprobs && !image ? 'all' : completes ? 'last' : 'none',
    };
    if (image) {
      const width = image.rows.length / image.tokens;
      entry.embeddings = {
        rows: image.rows.subarray((from - image.start) * width, (end - image.start) * width),
        nonCausal: image.nonCausal,
        ...(image.planes ? { planes: image.planes } : {}),
      };
    }
    this.prefilledTokens += end - from;
    planned.push({ sequence, entry });
    return end - from;
  }

  /** Picks the next token of a sequence; returns true when the sequence has finished. */
  private sample(sequence: RunningSequence, logits: Float32Array, events: EngineEvent[]): boolean {
    const request = sequence.request;
    const constraint = sequence.constraint;
    let choice: TokenChoice;
    try {
      if (constraint && request.tokenLogprobs === false && request.topNTokens === 0 && sequence.sampler.canCheckDrawnToken) {
        // The cheap path: the full mask only when the drawn token is refused.
        const drawn = sequence.sampler.choose(logits, 0);
        choice = constraint.permits(drawn.id) ? drawn : sequence.sampler.choose(logits, 0, constraint.allowed());
      } else {
        choice = sequence.sampler.choose(logits, request.topNTokens, constraint?.allowed());
      }
      constraint?.accept(choice.id);
    } catch (error) {
      // Only a grammar's automaton can fail here (one that outgrew its state budget): its request ends alone.
      if (request.grammar) this.grammars.forget(request.grammar);
      events.push({
        kind: 'error',
        requestId: request.id,
        failure: 'grammar',
        message: `the grammar could not be followed: ${error instanceof Error ? error.message : String(error)}`,
      });
      return true;
    }
    sequence.ids.push(choice.id);
    sequence.sampler.accept(choice.id);
    sequence.generated++;
    if (sequence.generated === 1) sequence.firstTokenAt = now();
    const text = sequence.detokenizer.next();
    const reason = sequence.stop.check(choice.id, text, sequence.generated);
    const tokenizer = this.engine.tokenizer;
    const event: EngineEvent & { kind: 'token' } = {
      kind: 'token',
      requestId: request.id,
      token: sequence.toGenerated(this.engine, choice, text),
    };
    if (request.topNTokens > 0) event.topTokens = choice.top.map((t) => sequence.toGenerated(this.engine, t, tokenizer.tokenText(t.id)));
    if (reason) {
      event.finish = {
        reason,
        generatedText: decodeGenerated(tokenizer, sequence.ids[sequence.promptLength - 1], sequence.ids.slice(sequence.promptLength)),
        generatedTokens: sequence.generated,
        inputLength: sequence.promptLength,
        cachedTokens: sequence.reused,
        startedAt: sequence.startedAt,
        firstTokenAt: sequence.firstTokenAt,
        finishedAt: now(),
      };
    }
    events.push(event);
    return reason !== undefined;
  }

  private failAll(message: string): void {
    const events: EngineEvent[] = this.running.map((s) => ({ kind: 'error', requestId: s.request.id, failure: 'engine', message }));
    this.engine.reset();
    for (const sequence of this.running) this.slots.release(sequence.slot, []);
    this.slots.forgetAll();
    this.running = [];
    this.reserved = 0;
    this.emit(events, this.state);
  }
}

/** KV cells a request writes: its prompt and every generated token but the last, which is never decoded. */
function cellsNeeded(reservation: number): number {
  return Math.max(1, reservation - 1);
}

function sameLayout(layout: KvLayout, limits: { maxSequences: number; sequenceContextSize: number }): boolean {
  return layout.sequences === limits.maxSequences && layout.sequenceCells === limits.sequenceContextSize;
}

function rawLogprob(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[id] - max - Math.log(sum);
}
