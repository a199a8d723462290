// A Backend that plays scripted events instead of running a model: route tests run in-process with
// it. Each request's script gives its tokens and how it ends (finished, failed, or never until
// cancelled); the backend records what was submitted and which requests were cancelled.
import type { Backend, RequestStream, SchedulerState, StepRecord, Unsubscribe } from '../../src/core/backend.js';
import type { FinishReason, GenerationRequest } from '../../src/core/request.js';
import { RequestEventStream } from '../../src/core/request-stream.js';

export interface Script {
  /** The text of each generated token, in order (at least one when the script ends with `finish`). */
  tokens: string[];
  /**
   * How the request ends after its tokens: `finish` (the last token carries the finish), `error`
   * (an error event with `message`), or `hang` (nothing more until it is cancelled).
   */
  end: 'finish' | 'error' | 'hang';
  reason?: FinishReason;
  message?: string;
}

export const FINISHED: Script = { tokens: ['Once', ' upon', ' a', ' time'], end: 'finish', reason: 'length' };

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeBackend implements Backend {
  /** What each request runs; by default every one finishes with FINISHED's tokens. */
  script: (request: Omit<GenerationRequest, 'id'>, index: number) => Script = () => FINISHED;
  readonly submitted: Omit<GenerationRequest, 'id'>[] = [];
  readonly cancelled: number[] = [];
  readonly adapterChanges: { op: 'load' | 'unload'; id: string; path?: string }[] = [];
  healthy = true;
  state: SchedulerState = {
    waiting: 0,
    running: 0,
    reservedTokens: 0,
    reusedPromptTokens: 0,
    prefilledTokens: 0,
    prefixCacheHits: 0,
    usedCells: 0,
    totalCells: 256,
    layout: { sequences: 4, sequenceCells: 64 },
    relayouts: 0,
    adapters: { running: {}, waiting: {} },
  };
  private readonly streams = new Map<number, RequestEventStream>();
  private readonly stepListeners = new Set<(steps: StepRecord[]) => void>();
  private readonly errorListeners = new Set<(message: string) => void>();
  private readonly cancelWaiters: ((id: number) => void)[] = [];
  private lastId = 0;

  submit(request: Omit<GenerationRequest, 'id'>): RequestStream {
    const id = ++this.lastId;
    const script = this.script(request, this.submitted.length);
    this.submitted.push(request);
    const stream = new RequestEventStream(id, () => {
      this.streams.delete(id);
      this.cancelled.push(id);
      for (const waiter of this.cancelWaiters.splice(0)) waiter(id);
    });
    this.streams.set(id, stream);
    void this.play(stream, request, script);
    return stream;
  }

  /** Resolves with the id of the next request cancelled. */
  nextCancel(): Promise<number> {
    return new Promise((resolve) => this.cancelWaiters.push(resolve));
  }

  /** Requests still queued or running (submitted, neither ended nor cancelled). */
  get open(): number {
    return this.streams.size;
  }

  private async play(stream: RequestEventStream, request: Omit<GenerationRequest, 'id'>, script: Script): Promise<void> {
    const startedAt = performance.timeOrigin + performance.now();
    let text = '';
    for (const [k, tokenText] of script.tokens.entries()) {
      await tick();
      if (stream.ended) return;
      text += tokenText;
      const last = k === script.tokens.length - 1 && script.end === 'finish';
      const now = performance.timeOrigin + performance.now();
      if (last) this.streams.delete(stream.id);
      stream.push({
        kind: 'token',
        requestId: stream.id,
        token: { id: 100 + k, text: tokenText, logprob: -0.5, special: false },
        ...(last
          ? {
              finish: {
                reason: script.reason ?? 'length',
                generatedText: text,
                generatedTokens: script.tokens.length,
                inputLength: request.inputIds.length,
                cachedTokens: 0,
                startedAt,
                firstTokenAt: startedAt,
                finishedAt: now,
              },
            }
          : {}),
      });
    }
    await tick();
    if (stream.ended) return;
    if (script.end === 'error') {
      const message = script.message ?? 'scripted failure';
      this.streams.delete(stream.id);
      for (const listener of this.errorListeners) listener(message);
      stream.push({ kind: 'error', requestId: stream.id, failure: 'engine', message });
    }
  }

  changeAdapter(op: 'load' | 'unload', id: string, path?: string): Promise<void> {
    this.adapterChanges.push({ op, id, ...(path !== undefined ? { path } : {}) });
    return Promise.resolve();
  }

  onSteps(listener: (steps: StepRecord[]) => void): Unsubscribe {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  onGenerationError(listener: (message: string) => void): Unsubscribe {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  stopAll(): void {
    for (const [id, stream] of this.streams) stream.push({ kind: 'error', requestId: id, failure: 'stopped', message: 'stopped' });
    this.streams.clear();
  }

  shutdown(): Promise<void> {
    this.healthy = false;
    return Promise.resolve();
  }
}
