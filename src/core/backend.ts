// The backend seam: what the HTTP side needs of whatever generates (the engine thread's client, or a
// fake in tests). Submit a validated request and read its typed events; LoRA adapters; the
// scheduler's figures; whether it runs; typed subscriptions to its steps and failures.
import type { EngineEvent, GenerationRequest } from './request.js';

/** What a request's stream yields: its prefill, its tokens (the last with its finish), or its error. */
export type RequestEvent = Exclude<EngineEvent, { kind: 'dropped' }>;

/**
 * Events of one request, in order, as an async iterator: it ends after a finished token or an
 * error event. cancel() (or return()) stops the request at once, queued or running.
 */
export interface RequestStream extends AsyncIterableIterator<RequestEvent> {
  readonly id: number;
  cancel(): void;
}

/** The scheduler's figures, read by /metrics at a scrape. */
export interface SchedulerState {
  waiting: number;
  running: number;
  reservedTokens: number;
  /** Prompt tokens whose KV cells were reused instead of recomputed, since start. */
  reusedPromptTokens: number;
  /** Prompt tokens computed, since start. */
  prefilledTokens: number;
  /** Requests that started from cached KV cells of an earlier or running prompt, since start. */
  prefixCacheHits: number;
  /** KV cells holding the tokens of running requests. */
  usedCells: number;
  /** KV cells of the pool, all sequences together. */
  totalCells: number;
  /** The pool's current division into `sequences` streams of `sequenceCells` cells each. */
  layout: { sequences: number; sequenceCells: number };
  /** Times the pool was divided anew, since start. */
  relayouts: number;
  /** Running and waiting requests per LoRA adapter (the base model's are not listed). */
  adapters: { running: Record<string, number>; waiting: Record<string, number> };
}

/** One engine step, for the tgi_batch_* metrics. */
export interface StepRecord {
  /** `prefill` when the step computed prompt tokens (with or without decodes), else `decode`. */
  method: 'prefill' | 'decode';
  ok: boolean;
  /** Requests admitted into the batch at this step, and whether they joined requests already running. */
  admitted: number;
  joinedRunning: boolean;
  /** Seconds: the whole step, the engine's forward pass, token choice with detokenization, and freeing the finished. */
  total: number;
  forward: number;
  choice: number;
  filter: number;
}

/** A LoRA adapter change the backend refused; `inUse`: requests still use the adapter. */
export class AdapterChangeError extends Error {
  constructor(
    message: string,
    readonly inUse: boolean,
  ) {
    super(message);
  }
}

/** Stops a subscription. */
export type Unsubscribe = () => void;

export interface Backend {
  /** Queues a validated request; iterate the stream for its events. */
  submit(request: Omit<GenerationRequest, 'id'>): RequestStream;
  /** Loads or unloads a LoRA adapter between two steps; rejects with AdapterChangeError when refused. */
  changeAdapter(op: 'load' | 'unload', id: string, path?: string): Promise<void>;
  /** The scheduler's figures as last reported. */
  readonly state: SchedulerState;
  /** False once the backend has stopped or crashed: every request then fails. */
  readonly healthy: boolean;
  /** Called with the records of the steps the engine ran. */
  onSteps(listener: (steps: StepRecord[]) => void): Unsubscribe;
  /** Called when the engine ends a request with an error (not when stopAll stops it). */
  onGenerationError(listener: (message: string) => void): Unsubscribe;
  /** Ends every queued or running request with an error event whose failure is `stopped`. */
  stopAll(): void;
  /** Stops the backend for good (the server has ended its requests). */
  shutdown(): Promise<void>;
}
