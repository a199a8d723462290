// The HTTP thread's handle on the engine thread: submit requests, receive their events, cancel.
import type { ResolvedContext } from '../engine/llama/engine.js';
import type { SchedulerLimits, SchedulerState } from '../scheduler/scheduler.js';
import type { GenerationRequest } from '../core/request.js';
import { AdapterChangeError, type Backend, type StepRecord, type Unsubscribe } from '../core/backend.js';
import type { ModelInfo } from '../engine/types.js';
import { engineErrors, type EngineProtocol, type EngineWorkerConfig } from './worker-protocol.js';
import type { LlamaLogLevel } from '../engine/llama/logging.js';
import { ThreadHost } from '../threads/rpc.js';
import { RequestEventStream } from '../core/request-stream.js';

export interface StartHooks {
  onProgress?: (fraction: number) => void;
  onLog?: (level: LlamaLogLevel, text: string) => void;
}

/** The engine thread as the server's Backend. */
export class EngineClient implements Backend {
  private readonly streams = new Map<number, RequestEventStream>();
  private lastId = 0;
  private readonly stepListeners = new Set<(steps: StepRecord[]) => void>();
  private readonly errorListeners = new Set<(message: string) => void>();
  private currentState: SchedulerState;
  private alive = true;

  private constructor(
    private readonly host: ThreadHost<EngineProtocol>,
    readonly info: ModelInfo,
    readonly context: ResolvedContext,
    readonly limits: SchedulerLimits,
    onLog: StartHooks['onLog'],
  ) {
    this.currentState = {
      waiting: 0,
      running: 0,
      reservedTokens: 0,
      reusedPromptTokens: 0,
      prefilledTokens: 0,
      prefixCacheHits: 0,
      usedCells: 0,
      totalCells: limits.poolCells,
      layout: { sequences: context.sequences, sequenceCells: context.sequenceContextSize },
      relayouts: 0,
      adapters: { running: {}, waiting: {} },
    };
    host.on('events', (batch) => this.onEvents(batch));
    if (onLog) host.on('log', ({ level, text }) => onLog(level, text));
    // Crashed or exited: the thread's requests end with an error event, its adapter calls reject.
    host.onStop((error) => {
      this.alive = false;
      this.failAll(error.message);
    });
  }

  static async start(config: EngineWorkerConfig, hooks: StartHooks = {}): Promise<EngineClient> {
    const { host, ready } = await ThreadHost.start<EngineProtocol>(new URL('./worker-main.js', import.meta.url), {
      label: 'engine thread',
      workerData: config,
      errors: engineErrors,
      on: { progress: (fraction) => hooks.onProgress?.(fraction), log: ({ level, text }) => hooks.onLog?.(level, text) },
      // Not terminated on a failed start: it may own llama.cpp's log callback (see worker-main.ts); it ends with the process.
      keepFailed: true,
    });
    return new EngineClient(host, ready.info, ready.context, ready.limits, hooks.onLog);
  }

  /** Queues a request; iterate the stream for its events. */
  submit(request: Omit<GenerationRequest, 'id'>): RequestEventStream {
    const id = ++this.lastId;
    const stream = new RequestEventStream(id, () => {
      this.streams.delete(id);
      this.host.notify('cancel', id);
    });
    if (!this.healthy) {
      stream.push({ kind: 'error', requestId: id, failure: 'engine', message: 'the engine is not running' });
      return stream;
    }
    this.streams.set(id, stream);
    this.host.notify('submit', { ...request, id });
    return stream;
  }

  /** The scheduler's figures as the engine thread last reported them. */
  get state(): SchedulerState {
    return this.currentState;
  }

  /** False once the engine thread has stopped or crashed. */
  get healthy(): boolean {
    return this.alive;
  }

  onSteps(listener: (steps: StepRecord[]) => void): Unsubscribe {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  onGenerationError(listener: (message: string) => void): Unsubscribe {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Loads or unloads a LoRA adapter on the engine thread, between two steps. */
  async changeAdapter(op: 'load' | 'unload', id: string, path?: string): Promise<void> {
    try {
      await this.host.call('adapter', { op, id, ...(path !== undefined ? { path } : {}) });
    } catch (error) {
      // The thread stopped before answering: a change that did not happen either.
      if (error instanceof AdapterChangeError) throw error;
      throw new AdapterChangeError(error instanceof Error ? error.message : String(error), false);
    }
  }

  /** Ends every queued or running request with a `stopped` error event, and cancels it on the engine thread. */
  stopAll(): void {
    for (const [id, stream] of this.streams) {
      this.host.notify('cancel', id);
      stream.push({ kind: 'error', requestId: id, failure: 'stopped', message: 'stopped' });
    }
    this.streams.clear();
  }

  async shutdown(): Promise<void> {
    if (!this.healthy) return;
    const closed = new Promise<void>((resolve) => {
      this.host.on('closed', () => resolve());
      this.host.onStop(() => resolve());
    });
    this.host.notify('shutdown', undefined);
    await closed;
    this.alive = false;
    await this.host.terminate();
  }

  private onEvents(message: EngineProtocol['toHost']['events']): void {
    this.currentState = message.state;
    if (message.steps.length > 0) for (const listener of this.stepListeners) listener(message.steps);
    for (const event of message.events) {
      // The engine thread's acknowledgement of a cancel: the stream was already closed then.
      if (event.kind === 'dropped') continue;
      const stream = this.streams.get(event.requestId);
      if (!stream) continue;
      if (event.kind === 'error' || (event.kind === 'token' && event.finish)) this.streams.delete(event.requestId);
      if (event.kind === 'error') for (const listener of this.errorListeners) listener(event.message);
      stream.push(event);
    }
  }

  private failAll(message: string): void {
    for (const [id, stream] of this.streams) stream.push({ kind: 'error', requestId: id, failure: 'engine', message });
    this.streams.clear();
  }
}
