// TGI's health rule: healthy while no generation has failed since the last check; after a
// failure, /health runs a real one-token generation and its outcome is the answer (and the new flag).
import type { GenerationRequest } from '../core/request.js';
import type { Backend, RequestEvent } from '../core/backend.js';

/** What the check needs of the engine: whether its thread runs, its failures, and a way to generate. */
export interface HealthEngine extends Pick<Backend, 'healthy' | 'onGenerationError'> {
  submit(request: Omit<GenerationRequest, 'id'>): AsyncIterable<RequestEvent>;
}

export class HealthCheck {
  private trusted = true;
  private probing: Promise<boolean> | undefined;

  constructor(
    private readonly engine: HealthEngine,
    /** The probe's prompt ("liveness", as TGI's). */
    private readonly probeIds: number[],
  ) {
    engine.onGenerationError(() => (this.trusted = false));
  }

  /** True while the engine thread runs and, after a failed generation, a probe succeeds. */
  async check(): Promise<boolean> {
    if (!this.engine.healthy) return false;
    if (this.trusted) return true;
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<boolean> {
    const stream = this.engine.submit({
      inputIds: this.probeIds,
      sampling: {
        doSample: false,
        temperature: 1,
        topK: 0,
        topP: 1,
        typicalP: 1,
        repetitionPenalty: 1,
        frequencyPenalty: 0,
        seed: 0n,
        watermark: false,
      },
      maxNewTokens: 1,
      stopSequences: [],
      topNTokens: 0,
      prefillLogprobs: false,
      tokenLogprobs: false,
    });
    for await (const event of stream) {
      if (event.kind === 'error') break;
      if (event.kind === 'token' && event.finish) {
        this.trusted = true;
        return true;
      }
    }
    return false;
  }
}
