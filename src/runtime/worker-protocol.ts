// What the HTTP thread and the engine thread say to each other, and the errors that cross.
import type { LlamaEngineOptions, ResolvedContext } from '../engine/llama/engine.js';
import type { SchedulerLimits, SchedulerState, StepRecord } from '../scheduler/scheduler.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import type { EngineEvent, GenerationRequest } from '../core/request.js';
import type { ModelInfo } from '../engine/types.js';
import type { LlamaLogLevel } from '../engine/llama/logging.js';
import { ErrorCodec } from '../threads/error-codec.js';
import { AdapterChangeError } from '../core/backend.js';

export { AdapterChangeError };

export interface EngineWorkerConfig {
  engine: Omit<LlamaEngineOptions, 'onProgress'>;
  /** Scheduler limits; capped by what the context really got. */
  scheduler: SchedulerLimits;
  watermark: WatermarkSettings;
}

export type EngineProtocol = {
  calls: {
    /** Loads or unloads a LoRA adapter between two steps; fails with AdapterChangeError. */
    adapter: { params: { op: 'load' | 'unload'; id: string; path?: string }; result: void };
  };
  toThread: {
    submit: GenerationRequest;
    cancel: number;
    /** Finish the running requests' current step, then close the engine and answer `closed`. */
    shutdown: undefined;
  };
  toHost: {
    /** Load progress, 0 to 1, before the thread is ready. */
    progress: number;
    log: { level: LlamaLogLevel; text: string };
    /** A step's events, with the scheduler's state after it and its step records. */
    events: { events: EngineEvent[]; state: SchedulerState; steps: StepRecord[] };
    closed: undefined;
  };
  ready: { info: ModelInfo; context: ResolvedContext; limits: SchedulerLimits };
};

/** The errors the engine thread raises as their class on the HTTP thread. */
export const engineErrors = new ErrorCodec([AdapterChangeError]);
