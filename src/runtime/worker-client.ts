// The HTTP thread's handle on the engine thread: submit requests, receive their events, cancel.
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import type { ResolvedContext } from '../engine/llama/engine.js';
import type { SchedulerLimits, SchedulerState } from '../scheduler/scheduler.js';
import type { GenerationRequest } from '../core/request.js';
import { AdapterChangeError, type Backend, type RequestEvent, type RequestStream, type StepRecord, type Unsubscribe } from '../core/backend.js';
import type { ModelInfo } from '../engine/types.js';
import type { EngineWorkerConfig, FromWorker, ToWorker } from './worker-protocol.js';
import type { LlamaLogLevel } from '../engine/llama/logging.js';

export interface StartHooks {
  onProgress?: (fraction: number) => void;
  onLog?: (level: LlamaLogLevel, text: string) => void;
}

/** Events of one request, in order, as an async iterator; return() cancels the request. */
export class GenerationStream implements RequestStream {
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

/** The engine thread as the server's Backend. */
export class EngineClient extends EventEmitter implements Backend {
  private readonly streams = new Map<number, GenerationStream>();
  private readonly adapterCalls = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private lastCall = 0;
  private lastId = 0;
  state: SchedulerState;
  healthy = true;

  private constructor(
    private readonly worker: Worker,
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
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    worker.on('error', (error) => {
      this.healthy = false;
      this.failAll(`engine thread crashed: ${error.message}`);
    });
    worker.on('exit', () => {
      this.healthy = false;
      this.failAll('engine thread exited');
    });
  }

  static start(config: EngineWorkerConfig, hooks: StartHooks = {}): Promise<EngineClient> {
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), { workerData: config });
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type === 'progress') hooks.onProgress?.(message.fraction);
        else if (message.type === 'log') hooks.onLog?.(message.level, message.text);
        else if (message.type === 'failed') {
          cleanup();
          // Not terminated: it may own llama.cpp's log callback (see worker-main.ts); it ends with the process.
          worker.unref();
          reject(new Error(message.message));
        } else if (message.type === 'ready') {
          cleanup();
          const client = new EngineClient(worker, message.info, message.context, message.limits);
          if (hooks.onLog) client.on('log', hooks.onLog);
          resolve(client);
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`engine thread exited with code ${code} while loading`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** Queues a request; iterate the stream for its events. */
  submit(request: Omit<GenerationRequest, 'id'>): GenerationStream {
    const id = ++this.lastId;
    const stream = new GenerationStream(id, () => {
      this.streams.delete(id);
      this.post({ type: 'cancel', requestId: id });
    });
    if (!this.healthy) {
      stream.push({ kind: 'error', requestId: id, message: 'the engine is not running' });
      return stream;
    }
    this.streams.set(id, stream);
    this.post({ type: 'submit', request: { ...request, id } });
    return stream;
  }

  onSteps(listener: (steps: StepRecord[]) => void): Unsubscribe {
    this.on('steps', listener);
    return () => this.off('steps', listener);
  }

  onGenerationError(listener: (message: string) => void): Unsubscribe {
    this.on('generation-error', listener);
    return () => this.off('generation-error', listener);
  }

  /** Loads or unloads a LoRA adapter on the engine thread, between two steps. */
  changeAdapter(op: 'load' | 'unload', id: string, path?: string): Promise<void> {
    const call = ++this.lastCall;
    return new Promise((resolve, reject) => {
      this.adapterCalls.set(call, { resolve, reject });
      this.post({ type: 'adapter', call, op, id, ...(path !== undefined ? { path } : {}) });
    });
  }

  /** Ends every queued or running request with a `stopped` error event, and cancels it on the engine thread. */
  stopAll(): void {
    for (const [id, stream] of this.streams) {
      this.post({ type: 'cancel', requestId: id });
      stream.push({ kind: 'error', requestId: id, message: 'stopped', stopped: true });
    }
    this.streams.clear();
  }

  async shutdown(): Promise<void> {
    if (!this.healthy) return;
    const closed = new Promise<void>((resolve) => {
      this.worker.on('message', (m: FromWorker) => m.type === 'closed' && resolve());
      this.worker.on('exit', () => resolve());
    });
    this.post({ type: 'shutdown' });
    await closed;
    this.healthy = false;
    await this.worker.terminate();
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'events') {
      this.state = message.state;
      if (message.steps.length > 0) this.emit('steps', message.steps);
      for (const event of message.events) {
        // The engine thread's acknowledgement of a cancel: the stream was already closed then.
        if (event.kind === 'dropped') continue;
        const stream = this.streams.get(event.requestId);
        if (!stream) continue;
        if (event.kind === 'error' || (event.kind === 'token' && event.finish)) this.streams.delete(event.requestId);
        if (event.kind === 'error') this.emit('generation-error', event.message);
        stream.push(event);
      }
    } else if (message.type === 'adapter-done') {
      const pending = this.adapterCalls.get(message.call);
      this.adapterCalls.delete(message.call);
      if (message.error === undefined) pending?.resolve();
      else pending?.reject(new AdapterChangeError(message.error, message.inUse ?? false));
    } else if (message.type === 'log') {
      this.emit('log', message.level, message.text);
    }
  }

  private failAll(message: string): void {
    for (const [id, stream] of this.streams) stream.push({ kind: 'error', requestId: id, message });
    this.streams.clear();
    for (const pending of this.adapterCalls.values()) pending.reject(new AdapterChangeError(message, false));
    this.adapterCalls.clear();
  }
}
