// Messages between the HTTP thread and the engine thread.
import type { LlamaEngineOptions, ResolvedContext } from '../engine/llama/engine.js';
import type { SchedulerLimits, SchedulerState, StepRecord } from '../scheduler/scheduler.js';
import type { WatermarkSettings } from '../sampling/watermark.js';
import type { EngineEvent, GenerationRequest } from '../core/request.js';
import type { ModelInfo } from '../engine/types.js';
import type { LlamaLogLevel } from '../engine/llama/logging.js';

export interface EngineWorkerConfig {
  engine: Omit<LlamaEngineOptions, 'onProgress'>;
  /** Scheduler limits; capped by what the context really got. */
  scheduler: SchedulerLimits;
  watermark: WatermarkSettings;
}

export type ToWorker =
  | { type: 'submit'; request: GenerationRequest }
  | { type: 'cancel'; requestId: number }
  | { type: 'adapter'; call: number; op: 'load' | 'unload'; id: string; path?: string }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'progress'; fraction: number }
  | { type: 'log'; level: LlamaLogLevel; text: string }
  | { type: 'ready'; info: ModelInfo; context: ResolvedContext; limits: SchedulerLimits }
  | { type: 'failed'; message: string }
  | { type: 'events'; events: EngineEvent[]; state: SchedulerState; steps: StepRecord[] }
  | { type: 'adapter-done'; call: number; error?: string; inUse?: boolean }
  | { type: 'closed' };
