// What the generator and the streaming routes tell the trace of the request they serve (see
// tracing-hooks.ts). Without tracing there is no such trace, and each call is one lookup.
import type { FinishInfo } from '../core/request.js';
import type { ValidatedGenerate } from '../validation/generate.js';
import { currentRequestTrace } from '../tracing/request-trace.js';
import type { ApiError } from './errors.js';

/** A failure answered in-band (a stream's error event). */
export function traceFailure(error: ApiError): void {
  currentRequestTrace()?.fail(error.message, error.errorType);
}

/** A validated sequence went to the engine. */
export function traceSubmission(validated: ValidatedGenerate): void {
  const trace = currentRequestTrace();
  if (!trace) return;
  const { request } = validated;
  const s = request.sampling;
  trace.submitted({
    prompt: request.inputIds,
    inputTokens: validated.inputLength,
    maxTokens: request.maxNewTokens,
    sampling: validated.sampled
      ? { temperature: s.temperature, topP: s.topP < 1 ? s.topP : undefined, topK: s.topK > 0 ? s.topK : undefined, seed: s.seed }
      : undefined,
  });
}

/** A sequence finished. */
export function traceFinish(finish: FinishInfo): void {
  currentRequestTrace()?.sequenceFinished({
    startedAt: finish.startedAt,
    firstTokenAt: finish.firstTokenAt,
    finishedAt: finish.finishedAt,
    inputTokens: finish.inputLength,
    outputTokens: finish.generatedTokens,
    finishReason: finish.reason,
  });
}
