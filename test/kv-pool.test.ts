// The KV pool on the real engine (stories260K): requests are admitted by what they reserve
// (prompt + max_new_tokens), the pool is divided anew when the requests at hand need it, and a
// running sequence moved to a new layout continues exactly as it would have alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LlamaEngine } from '../src/engine/llama/engine.js';
import { Scheduler, type SchedulerState } from '../src/scheduler/scheduler.js';
import { initialLayout, layoutFor } from '../src/scheduler/kv-layout.js';
import type { EngineEvent, GenerationRequest } from '../src/core/request.js';
import type { SamplingParams } from '../src/sampling/params.js';
import { STORIES } from './helpers/models.js';
import { GREEDY, request } from './helpers/requests.js';

const seeded: SamplingParams = { ...GREEDY, doSample: true, temperature: 0.9, topK: 40, seed: 7n };
const POOL = { cells: 1024, maxSequences: 4 };

interface Outcome {
  text?: string;
  error?: string;
}

describe('KV pool', () => {
  let engine: LlamaEngine;
  let scheduler: Scheduler;
  let running: Promise<void>;
  const outcomes = new Map<number, Outcome>();
  const waiters = new Map<number, () => void>();
  const states: SchedulerState[] = [];
  let nextId = 1;

  before(() => {
    const layout = initialLayout(POOL);
    engine = LlamaEngine.create({
      modelPath: STORIES,
      sequenceContextSize: layout.sequenceCells,
      maxSequences: layout.sequences,
      maxBatchTokens: 512 + POOL.maxSequences,
      microBatchTokens: 512,
      threads: 1,
      threadsBatch: 1,
      flashAttention: 'auto',
    });
    scheduler = new Scheduler(
      engine,
      { maxSequences: POOL.maxSequences, poolCells: POOL.cells, maxPrefillTokens: 512, prefixCaching: true },
      (events: EngineEvent[], state) => {
        states.push(state);
        for (const event of events) {
          if (event.kind === 'token' && event.finish) outcomes.set(event.requestId, { text: event.finish.generatedText });
          else if (event.kind === 'error') outcomes.set(event.requestId, { error: event.message });
          else continue;
          waiters.get(event.requestId)?.();
        }
      },
      { gamma: 0.5, delta: 2 },
    );
    running = scheduler.run();
  });
  after(async () => {
    scheduler.close();
    await running;
    engine.close();
  });

  const submit = (prompt: string, maxNewTokens: number, options: Partial<GenerationRequest> = {}): Promise<Outcome> => {
    const id = nextId++;
    const done = new Promise<Outcome>((resolve) => waiters.set(id, () => resolve(outcomes.get(id)!)));
    scheduler.submit(request(id, Array.from(engine.tokenizer.tokenize(prompt, true)), maxNewTokens, options));
    return done;
  };

  it('divides the pool by the largest need of the requests at hand', () => {
    assert.deepEqual(initialLayout({ cells: 20480, maxSequences: 64 }), { sequences: 64, sequenceCells: 256 });
    assert.deepEqual(layoutFor({ cells: 20480, maxSequences: 64 }, Array(64).fill(256)), { sequences: 64, sequenceCells: 256 });
    assert.deepEqual(layoutFor({ cells: 20480, maxSequences: 64 }, [4096]), { sequences: 5, sequenceCells: 4096 });
    assert.equal(layoutFor({ cells: 20480, maxSequences: 64 }, [...Array(5).fill(300), 4096]), undefined);
    assert.deepEqual(layoutFor({ cells: 20480, maxSequences: 64 }, [300, 300]), { sequences: 40, sequenceCells: 512 });
    assert.equal(layoutFor({ cells: 20480, maxSequences: 64 }, [20481]), undefined);
  });

  it('sequences moved to a new layout while running give what they give alone', async () => {
    const jobs = [
      { prompt: 'Once upon a time', maxNewTokens: 290, stopSequences: ['park'] },
      { prompt: 'The little dog', maxNewTokens: 100 },
      { prompt: 'Lily and Tom', maxNewTokens: 100, sampling: seeded },
      { prompt: 'One day the sun', maxNewTokens: 100 },
    ];
    const alone: Outcome[] = [];
    for (const job of jobs) alone.push(await submit(job.prompt, job.maxNewTokens, job));
    const before = states.at(-1)!.relayouts;
    states.length = 0;
    // The first needs a stream of 512 cells (2 in the pool): the second runs beside it, the others
    // wait until it stops at "park", then the pool is divided into 4 streams of 256, the running
    // sequences keeping their cells.
    const together = await Promise.all(jobs.map((job) => submit(job.prompt, job.maxNewTokens, job)));
    assert.deepEqual(together, alone);
    assert.match(alone[0].text!, /park$/);
    assert.ok(states.at(-1)!.relayouts - before >= 1, 'the pool was divided anew while sequences ran');
    assert.ok(
      states.some((s) => s.layout.sequenceCells === 512 && s.running === 2),
      'two requests shared the 512-cell layout',
    );
    assert.ok(
      states.some((s) => s.layout.sequenceCells === 256 && s.running === 3),
      'three requests ran in the 256-cell layout',
    );
    for (const state of states) assert.ok(state.reservedTokens <= POOL.cells, `reserved ${state.reservedTokens}`);
  });

  it('a request that needs more than the pool is refused, the others are served', async () => {
    const [refused, served] = await Promise.all([submit('Once upon a time', 1025), submit('Once upon a time', 8)]);
    assert.match(refused.error!, /needs 1030 KV cells .* more than the pool of 1024/);
    assert.match(served.text!, /^, there was a little girl/);
  });
});
