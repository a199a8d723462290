// TGI's health rule. The real engine cannot be made to fail a generation on demand, so a stand-in
// engine fails or serves the probe; the server-level paths (/health 200 while loaded, 503 while
// loading) are tested on the real server in operations.test.ts and loading.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { HealthCheck } from '../../src/server/health.js';
import type { RequestEvent } from '../../src/core/backend.js';
import type { GenerationRequest } from '../../src/core/request.js';

class StandInEngine extends EventEmitter {
  healthy = true;
  probes: Omit<GenerationRequest, 'id'>[] = [];
  failNext = false;

  onGenerationError(listener: (message: string) => void): () => void {
    this.on('generation-error', listener);
    return () => this.off('generation-error', listener);
  }

  async *submit(request: Omit<GenerationRequest, 'id'>): AsyncIterable<RequestEvent> {
    this.probes.push(request);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failNext) {
      this.emit('generation-error', 'decode failed');
      yield { kind: 'error', requestId: 1, failure: 'engine', message: 'decode failed' };
      return;
    }
    const finish = {
      reason: 'length' as const,
      generatedText: 'x',
      generatedTokens: 1,
      inputLength: request.inputIds.length,
      cachedTokens: 0,
      startedAt: 0,
      firstTokenAt: 0,
      finishedAt: 0,
    };
    yield { kind: 'token', requestId: 1, token: { id: 5, text: 'x', logprob: 0, special: false }, finish };
  }
}

describe('health check', () => {
  it('is healthy without a probe until a generation fails', async () => {
    const engine = new StandInEngine();
    const check = new HealthCheck(engine, [1, 42]);
    assert.equal(await check.check(), true);
    assert.equal(engine.probes.length, 0);
  });

  it('after a failure, a one-token greedy probe decides, and its success restores the flag', async () => {
    const engine = new StandInEngine();
    const check = new HealthCheck(engine, [1, 42]);
    engine.emit('generation-error', 'a request failed');
    engine.failNext = true;
    assert.equal(await check.check(), false);
    assert.equal(engine.probes.length, 1);
    assert.deepEqual(engine.probes[0].inputIds, [1, 42]);
    assert.equal(engine.probes[0].maxNewTokens, 1);
    assert.equal(engine.probes[0].sampling.doSample, false);
    engine.failNext = false;
    // Concurrent checks share one probe.
    const answers = await Promise.all([check.check(), check.check(), check.check()]);
    assert.deepEqual(answers, [true, true, true]);
    assert.equal(engine.probes.length, 2);
    assert.equal(await check.check(), true);
    assert.equal(engine.probes.length, 2);
  });

  it('is unhealthy when the engine thread is gone, without probing', async () => {
    const engine = new StandInEngine();
    const check = new HealthCheck(engine, [1]);
    engine.healthy = false;
    assert.equal(await check.check(), false);
    assert.equal(engine.probes.length, 0);
  });
});
