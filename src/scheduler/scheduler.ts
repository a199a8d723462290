// Continuous batching: FIFO admission into free sequence slots (each owns the KV cells for a whole
// request), then one engine decode per step
// carrying the next token of every running sequence plus chunks of prompts being prefilled.
import type { Engine, EngineEvent, GenerationRequest, StepEntry } from '../engine/types.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import { decodeGenerated } from './detokenizer.js';
import { RunningSequence } from './sequence.js';

export interface SchedulerLimits {
  maxSequences: number;
  /** KV cells of one sequence: the most prompt + new tokens a request may need. */
  sequenceTokens: number;
  /** Prompt tokens prefilled per step, across requests. */
  maxPrefillTokens: number;
}

export interface SchedulerState {
  waiting: number;
  running: number;
  reservedTokens: number;
}

interface Waiting {
  request: GenerationRequest;
  reservation: number;
}

const now = () => performance.timeOrigin + performance.now();
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  private readonly waiting: Waiting[] = [];
  private running: RunningSequence[] = [];
  private readonly freeSlots: number[] = [];
  private reserved = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly limits: SchedulerLimits,
    private readonly emit: (events: EngineEvent[], state: SchedulerState) => void,
    private readonly watermark: WatermarkSettings,
  ) {
    for (let slot = limits.maxSequences - 1; slot >= 0; slot--) this.freeSlots.push(slot);
  }

  get state(): SchedulerState {
    return { waiting: this.waiting.length, running: this.running.length, reservedTokens: this.reserved };
  }

  submit(request: GenerationRequest): void {
    const reservation = request.inputIds.length + request.maxNewTokens;
    if (reservation > this.limits.sequenceTokens) {
      this.emit([{ kind: 'error', requestId: request.id, message: `request needs ${reservation} KV cells, more than the ${this.limits.sequenceTokens} of a sequence` }], this.state);
      return;
    }
    this.waiting.push({ request, reservation });
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
        continue;
      }
      this.step();
      // Let submissions and cancellations arrive between steps.
      await yieldToEvents();
    }
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.freeSlots.length > 0) {
      const head = this.waiting.shift()!;
      this.reserved += head.reservation;
      const slot = this.freeSlots.pop()!;
      this.running.push(new RunningSequence(head.request, slot, head.reservation, now(), this.engine, this.watermark));
    }
  }

  private release(sequence: RunningSequence): void {
    this.engine.releaseSequence(sequence.slot);
    this.freeSlots.push(sequence.slot);
    this.reserved -= sequence.reservation;
  }

  step(): void {
    this.admit();
    if (this.running.length === 0) return;
    const planned: { sequence: RunningSequence; entry: StepEntry }[] = [];
    for (const sequence of this.running) {
      if (sequence.prefilling) continue;
      planned.push({ sequence, entry: { sequence: sequence.slot, tokens: sequence.pendingTokens(1), startPosition: sequence.cached, outputs: 'last' } });
    }
    let budget = this.limits.maxPrefillTokens;
    for (const sequence of this.running) {
      if (!sequence.prefilling || budget <= 0) continue;
      const tokens = sequence.pendingTokens(budget);
      budget -= tokens.length;
      const completes = sequence.cached + tokens.length === sequence.promptLength;
      const outputs = sequence.request.prefillLogprobs ? 'all' : completes ? 'last' : 'none';
      planned.push({ sequence, entry: { sequence: sequence.slot, tokens, startPosition: sequence.cached, outputs } });
    }

    const events: EngineEvent[] = [];
    try {
      this.engine.decode(planned.map((p) => p.entry));
    } catch (error) {
      this.failAll(error instanceof Error ? error.message : String(error));
      return;
    }

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
            sequence.prefill.push({ id: next, text: this.engine.tokenizer.tokenText(next), logprob: rawLogprob(logits, next) });
          } else {
            sequence.cached += count;
            events.push({ kind: 'prefill', requestId: sequence.request.id, tokens: sequence.prefill });
            if (this.sample(sequence, logits, events)) finished.add(sequence);
          }
        }
        if (sequence.prefilling) sequence.cached += count;
      } else if (entry.outputs === 'last') {
        const logits = this.engine.logitsAt(output++);
        sequence.cached += count;
        if (this.sample(sequence, logits, events)) finished.add(sequence);
      } else {
        sequence.cached += count;
      }
    }
    if (finished.size > 0) {
      for (const sequence of finished) this.release(sequence);
      this.running = this.running.filter((s) => !finished.has(s));
    }
    if (events.length > 0) this.emit(events, this.state);
  }

  /** Picks the next token of a sequence; returns true when the sequence has finished. */
  private sample(sequence: RunningSequence, logits: Float32Array, events: EngineEvent[]): boolean {
    const request = sequence.request;
    const choice = sequence.sampler.choose(logits, request.topNTokens);
    sequence.ids.push(choice.id);
    sequence.sampler.accept(choice.id);
    sequence.generated++;
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
        startedAt: sequence.startedAt,
        finishedAt: now(),
      };
    }
    events.push(event);
    return reason !== undefined;
  }

  private failAll(message: string): void {
    const events: EngineEvent[] = this.running.map((s) => ({ kind: 'error', requestId: s.request.id, message }));
    for (const sequence of this.running) this.freeSlots.push(sequence.slot);
    this.running = [];
    this.reserved = 0;
    this.engine.reset();
    this.emit(events, this.state);
  }
}

function rawLogprob(logits: Float32Array, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[id] - max - Math.log(sum);
}
