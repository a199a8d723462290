// The scheduler on the real engine (stories260K): how requests that arrive together are batched,
// and small prefill budgets served end to end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LlamaEngine } from '../src/engine/llama/engine.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import type { EngineEvent } from '../src/core/request.js';
import type { StepEntry } from '../src/engine/types.js';
import { quantizedStories, STORIES } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { request } from './helpers/requests.js';

describe('scheduler', () => {
  let engine: LlamaEngine;
  const steps: StepEntry[][] = [];
  before(() => {
    engine = LlamaEngine.create({
      modelPath: STORIES,
      sequenceContextSize: 256,
      maxSequences: 4,
      maxBatchTokens: 512 + 4,
      microBatchTokens: 512,
      threads: 1,
      threadsBatch: 1,
      flashAttention: 'auto',
    });
    const decode = engine.decode.bind(engine);
    engine.decode = (entries) => {
      steps.push(entries.map((e) => ({ ...e, tokens: Array.from(e.tokens) })));
      decode(entries);
    };
  });
  after(() => engine.close());

  it('requests reaching an idle engine a millisecond apart start in the same step', async () => {
    const finished = new Map<number, string>();
    let done: () => void;
    const allDone = new Promise<void>((resolve) => (done = resolve));
    const scheduler = new Scheduler(
      engine,
      { maxSequences: 4, poolCells: 1024, maxPrefillTokens: 512, prefixCaching: true },
      (events: EngineEvent[]) => {
        for (const event of events) if (event.kind === 'token' && event.finish) finished.set(event.requestId, event.finish.generatedText);
        if (finished.size === 4) done();
      },
      { gamma: 0.5, delta: 2 },
    );
    const running = scheduler.run();
    const prompts = ['Once upon a time', 'The little dog', 'Lily and Tom', 'One day the sun'];
    for (const [i, text] of prompts.entries()) {
      scheduler.submit(request(i + 1, Array.from(engine.tokenizer.tokenize(text, true)), 6));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await allDone;
    scheduler.close();
    await running;
    assert.deepEqual(steps[0].map((e) => e.sequence).sort(), [0, 1, 2, 3], `first step: ${JSON.stringify(steps[0])}`);
    assert.equal(steps.length, 6, 'one prefill step and five decode steps for six tokens each');
    assert.match(finished.get(1)!, /^, there was a little/);
  });

  it('long prompts arriving together share the prefill steps and start streaming in the same step', async () => {
    const firstTokenStep = new Map<number, number>();
    let emits = 0;
    let done: () => void;
    const allDone = new Promise<void>((resolve) => (done = resolve));
    const finished = new Set<number>();
    const scheduler = new Scheduler(
      engine,
      { maxSequences: 4, poolCells: 1024, maxPrefillTokens: 512, prefixCaching: false },
      (events: EngineEvent[]) => {
        emits++;
        for (const event of events) {
          if (event.kind !== 'token') continue;
          if (!firstTokenStep.has(event.requestId)) firstTokenStep.set(event.requestId, emits);
          if (event.finish) finished.add(event.requestId);
        }
        if (finished.size === 4) done();
      },
      { gamma: 0.5, delta: 2 },
    );
    const running = scheduler.run();
    const story = 'Once upon a time there was a little girl named Lily. She loved to play outside in the park. ';
    for (let i = 0; i < 4; i++) {
      const ids = Array.from(engine.tokenizer.tokenize(`${i} ${story.repeat(12)}`, true)).slice(0, 150);
      scheduler.submit(request(100 + i, ids, 4));
    }
    await allDone;
    scheduler.close();
    await running;
    // 600 prompt tokens at 512 per step: first come, first served would start two streams a step
    // before the others, whose prefill would then hold up those streams' next tokens.
    assert.deepEqual(new Set(firstTokenStep.values()).size, 1, `first tokens at emits ${JSON.stringify([...firstTokenStep])}`);
  });
});

describe('a small --max-batch-prefill-tokens', () => {
  const story = 'Once upon a time there was a little girl named Lily. She loved to play outside in the park. ';
  const prompts = [story.repeat(6), `Tom and Sue. ${story.repeat(9)}`];
  let reference: RunningServer;
  let texts: string[];
  before(async () => {
    reference = await startServer(['--max-batch-size', '2', '--response-cache-size', '0'], {}, await quantizedStories());
    const tokens = await Promise.all(
      prompts.map(async (inputs) => (await postJson(`${reference.url}/tokenize`, { inputs })).json.length as number),
    );
    assert.ok(
      tokens.every((n) => n > 100),
      JSON.stringify(tokens),
    );
    texts = [];
    for (const inputs of prompts)
      texts.push((await postJson(`${reference.url}/generate`, { inputs, parameters: { max_new_tokens: 12 } })).json.generated_text);
  });
  after(() => reference?.stop());

  for (const budget of ['32', '16']) {
    it(`of ${budget} tokens serves prompts of 100+ tokens, alone and together, as a default server does`, async () => {
      const server = await startServer(
        ['--max-batch-size', '2', '--max-batch-prefill-tokens', budget, '--response-cache-size', '0'],
        {},
        await quantizedStories(),
      );
      try {
        for (const [i, inputs] of prompts.entries()) {
          const alone = await postJson(`${server.url}/generate`, { inputs, parameters: { max_new_tokens: 12 } });
          assert.equal(alone.status, 200, alone.text);
          assert.equal(alone.json.generated_text, texts[i]);
        }
        const together = await Promise.all(
          prompts.map((inputs) => postJson(`${server.url}/generate`, { inputs, parameters: { max_new_tokens: 12 } })),
        );
        assert.deepEqual(
          together.map((r) => r.status),
          [200, 200],
          together.map((r) => r.text).join('\n'),
        );
        assert.deepEqual(
          together.map((r) => r.json.generated_text),
          texts,
        );
      } finally {
        await server.stop();
      }
    });
  }
});
