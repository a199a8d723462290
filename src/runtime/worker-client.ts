// The HTTP thread's handle on the engine thread: submit requests, receive their events, cancel.
import { EventEmitter } from 'node:events';
import type { ResolvedContext } from '../engine/llama/engine.js';
import type { SchedulerLimits, SchedulerState } from '../scheduler/scheduler.js';
import type { EngineEvent, GenerationRequest } from '../core/request.js';
import type { ModelInfo } from '../engine/types.js';
import { AdapterChangeError, engineErrors, type EngineProtocol, type EngineWorkerConfig } from './worker-protocol.js';
import type { LlamaLogLevel } from '../engine/llama/logging.js';
import { ThreadHost } from '../threads/rpc.js';

export { AdapterChangeError };

/** A request's error event; `stopped` when stopAll ended it, not a failure. */
export type RequestError = Extract<EngineEvent, { kind: 'error' }> & { stopped?: boolean };
export type RequestEvent = Exclude<EngineEvent, { kind: 'dropped' | 'error' }> | RequestError;

export interface StartHooks {
  onProgress?: (fraction: number) => void;
  onLog?: (level: LlamaLogLevel, text: string) => void;
}

/** Events of one request, in order, as an async iterator; return() cancels the request. */
export class GenerationStream implements AsyncIterableIterator<RequestEvent> {
  private readonly buffered: RequestEvent[] = [];
  private waiter: ((result: IteratorResult<RequestEvent>) => void) | undefined;
  private done = false;

  constructor(readonly id: number, private readonly onCancel: () => void) {}

  push(event: RequestEvent): void {
    if (this.done) return;
    const final = event.kind === 'error' || (event.kind === 'token' && event.finish !== undefined);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: event, done: false });
    } else {
      this.buffered.push(event);
    }
    if (final) this.done = true;
  }

  next(): Promise<IteratorResult<RequestEvent>> {
    const event = this.buffered.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Stops the request if it is still queued or running. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.onCancel();
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  return(): Promise<IteratorResult<RequestEvent>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export class EngineClient extends EventEmitter {
  private readonly streams = new Map<number, GenerationStream>();
  private lastId = 0;
  state: SchedulerState;
  healthy = true;

  private constructor(
    private readonly host: ThreadHost<EngineProtocol>,
    readonly info: ModelInfo,
    readonly context: ResolvedContext,
    readonly limits: SchedulerLimits,
  ) {
    super();
    this.state = {
      waiting: 0, running: 0, reservedTokens: 0, reusedPromptTokens: 0, prefilledTokens: 0, prefixCacheHits: 0, usedCells: 0,
      totalCells: limits.poolCells,
      layout: { sequences: context.sequences, sequenceCells: context.sequenceContextSize },
      relayouts: 0,
      adapters: { running: {}, waiting: {} },
    };
    host.on('events', (batch) => this.onEvents(batch));
    host.on('log', ({ level, text }) => this.emit('log', level, text));
    // Crashed or exited: the thread's requests end with an error event, its adapter calls reject.
    host.onStop((error) => {
      this.healthy = false;
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
    const client = new EngineClient(host, ready.info, ready.context, ready.limits);
    if (hooks.onLog) client.on('log', hooks.onLog);
    return client;
  }

  /** Queues a request; iterate the stream for its events. */
  submit(request: Omit<GenerationRequest, 'id'>): GenerationStream {
    const id = ++this.lastId;
    const stream = new GenerationStream(id, () => {
      this.streams.delete(id);
      this.host.notify('cancel', id);
    });
    if (!this.healthy) {
      stream.push({ kind: 'error', requestId: id, message: 'the engine is not running' });
      return stream;
    }
    this.streams.set(id, stream);
    this.host.notify('submit', { ...request, id });
    return stream;
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
      stream.push({ kind: 'error', requestId: id, message: 'stopped', stopped: true });
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
    this.healthy = false;
    await this.host.terminate();
  }

  private onEvents(message: EngineProtocol['toHost']['events']): void {
    this.state = message.state;
    if (message.steps.length > 0) this.emit('steps', message.steps);
    for (const event of message.events) {
      if (event.kind === 'dropped') {
        this.emit('dropped', event.requestId);
        continue;
      }
      const stream = this.streams.get(event.requestId);
      if (!stream) continue;
      if (event.kind === 'error' || (event.kind === 'token' && event.finish)) this.streams.delete(event.requestId);
      if (event.kind === 'error') this.emit('generation-error', event.message);
      stream.push(event);
    }
  }

  private failAll(message: string): void {
    for (const [id, stream] of this.streams) stream.push({ kind: 'error', requestId: id, message });
    this.streams.clear();
  }
}
