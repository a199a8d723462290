// The scheduler driven step by step on a fake engine (no model): admission and queueing under the
// KV budget, chunked prefill within the step budget, cancellation, prefix-cache reuse, stopping
// every request, and a failing decode. The fake checks each batch against the KV cells it holds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler, type SchedulerLimits, type SchedulerState } from '../../src/scheduler/scheduler.js';
import type { EngineEvent, FinishInfo } from '../../src/core/request.js';
import { EOS, FakeEngine, promptIds, type FakeEngineOptions, type KvOperation } from '../helpers/fake-engine.js';
import { request } from '../helpers/requests.js';

interface Harness {
  engine: FakeEngine;
  scheduler: Scheduler;
  events: EngineEvent[];
  states: SchedulerState[];
  /** Steps until nothing runs or waits (or `limit` steps). */
  drain(limit?: number): void;
  finishes(): Map<number, FinishInfo>;
  /** The request ids in the order their first generated token came. */
  firstTokenOrder(): number[];
}

function harness(engineOptions: FakeEngineOptions = {}, limits: Partial<SchedulerLimits> = {}): Harness {
  const engine = new FakeEngine(engineOptions);
  const events: EngineEvent[] = [];
  const states: SchedulerState[] = [];
  const scheduler = new Scheduler(
    engine,
    {
      maxSequences: engine.limits.maxSequences,
      poolCells: engine.limits.maxSequences * engine.limits.sequenceContextSize,
      maxPrefillTokens: 256,
      prefixCaching: true,
      ...limits,
    },
    (emitted, state) => {
      events.push(...emitted);
      states.push(state);
    },
    { gamma: 0.5, delta: 2 },
  );
  return {
    engine,
    scheduler,
    events,
    states,
    drain(limit = 1000) {
      for (let i = 0; i < limit && scheduler.state.running + scheduler.state.waiting > 0; i++) scheduler.step();
    },
    finishes() {
      const finished = new Map<number, FinishInfo>();
      for (const event of events) if (event.kind === 'token' && event.finish) finished.set(event.requestId, event.finish);
      return finished;
    },
    firstTokenOrder() {
      const order: number[] = [];
      for (const event of events) if (event.kind === 'token' && !order.includes(event.requestId)) order.push(event.requestId);
      return order;
    },
  };
}

/** Tokens of a batch, all entries together. */
const batchSize = (batch: { entries: { tokens: number[] }[] }) => batch.entries.reduce((sum, e) => sum + e.tokens.length, 0);

const kvOperations = (engine: FakeEngine): Exclude<KvOperation, { kind: 'decode' }>[] =>
  engine.operations.filter((op): op is Exclude<KvOperation, { kind: 'decode' }> => op.kind !== 'decode');

describe('scheduler on a fake engine', () => {
  it('prefills a prompt in one batch, then decodes one token per step, and finishes with the text of its tokens', () => {
    const h = harness();
    const prompt = [0, ...promptIds(0, 10)];
    h.scheduler.submit(request(1, prompt, 3));
    h.drain();
    assert.deepEqual(h.engine.violations, []);
    assert.deepEqual(h.engine.batches, [
      { adapter: undefined, entries: [{ sequence: 0, tokens: prompt, startPosition: 0, outputs: 'last' }] },
      { adapter: undefined, entries: [{ sequence: 0, tokens: [13], startPosition: 11, outputs: 'last' }] },
      { adapter: undefined, entries: [{ sequence: 0, tokens: [14], startPosition: 12, outputs: 'last' }] },
    ]);
    assert.deepEqual(
      h.events.map((e) => (e.kind === 'token' ? [e.requestId, e.token.id, e.token.text, e.finish?.reason] : [e.kind])),
      [
        [1, 13, ' w13', undefined],
        [1, 14, ' w14', undefined],
        [1, 15, ' w15', 'length'],
      ],
    );
    const finish = h.finishes().get(1)!;
    assert.equal(finish.generatedText, ' w13 w14 w15');
    assert.deepEqual([finish.generatedTokens, finish.inputLength, finish.cachedTokens], [3, 11, 0]);
    assert.deepEqual(h.scheduler.state.reservedTokens, 0);
  });

  it('an end-of-generation token finishes a request before its max_new_tokens', () => {
    const h = harness({ next: (context) => (context.length >= 8 ? EOS : 7) });
    h.scheduler.submit(request(1, [0, 2, 3, 4, 5], 10));
    h.drain();
    const finish = h.finishes().get(1)!;
    assert.deepEqual([finish.reason, finish.generatedTokens, finish.generatedText], ['eos_token', 4, ' w7 w7 w7']);
  });

  describe('admission under the KV budget', () => {
    it('admits first come first served while slots are free; the rest wait and start as slots free', () => {
      // Two slots of 512 cells in a pool of 1,024: a third request waits for a slot.
      const h = harness({ maxSequences: 2, sequenceContextSize: 512 });
      h.scheduler.submit(request(1, promptIds(0, 20), 4));
      h.scheduler.submit(request(2, promptIds(20, 20), 8));
      h.scheduler.submit(request(3, promptIds(40, 20), 4));
      h.scheduler.step();
      assert.deepEqual(
        h.engine.batches[0].entries.map((e) => [e.sequence, e.tokens[0]]),
        [
          [0, 2],
          [1, 22],
        ],
      );
      assert.deepEqual([h.scheduler.state.running, h.scheduler.state.waiting, h.scheduler.state.reservedTokens], [2, 1, 20 + 4 + 20 + 8]);
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.deepEqual(h.firstTokenOrder(), [1, 2, 3]);
      // Request 3 took request 1's slot in the step after request 1 finished, beside request 2's decodes.
      const firstOfThree = h.engine.batches.findIndex((b) => b.entries.some((e) => e.tokens[0] === 42 && e.startPosition === 0));
      assert.equal(firstOfThree, 4, 'one prefill step and three decode steps for request 1, then request 3');
      assert.deepEqual(
        h.engine.batches[firstOfThree].entries.map((e) => [e.sequence, e.startPosition]),
        [
          [0, 0],
          [1, 23],
        ],
      );
      assert.deepEqual([...h.finishes().keys()].sort(), [1, 2, 3]);
      assert.equal(h.scheduler.state.reservedTokens, 0);
    });

    it('a request the layout cannot hold yet waits at the head of the queue, and one behind it does not overtake it', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 512 });
      h.scheduler.submit(request(1, promptIds(0, 20), 3));
      h.scheduler.step();
      // 900 cells: one stream of 1,024 holds it, beside nothing else.
      h.scheduler.submit(request(2, promptIds(20, 100), 800));
      h.scheduler.submit(request(3, promptIds(40, 10), 2));
      h.scheduler.step();
      assert.deepEqual(
        [h.scheduler.state.running, h.scheduler.state.waiting],
        [1, 2],
        'request 3 fits the free slot but queues behind request 2',
      );
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.deepEqual(h.firstTokenOrder(), [1, 2, 3]);
      assert.deepEqual(
        kvOperations(h.engine).filter((op) => op.kind === 'relayout'),
        [{ kind: 'relayout', layout: { sequences: 1, sequenceCells: 1024 }, keep: [] }],
        'the pool is laid out anew once request 1 has finished, and stays so for request 3',
      );
      const finished = h.finishes();
      assert.ok(finished.get(2)!.finishedAt <= finished.get(3)!.startedAt, 'request 3 starts once request 2 is done');
      assert.equal(h.scheduler.state.relayouts, 1);
    });

    it('a request larger than the whole pool fails at once; a layout without memory fails only the request that needed it', () => {
      const h = harness({ maxSequences: 4, sequenceContextSize: 256 });
      h.scheduler.submit(request(1, promptIds(0, 100), 2000));
      assert.equal(h.events.length, 1);
      assert.deepEqual(h.events[0], {
        kind: 'error',
        requestId: 1,
        failure: 'capacity',
        message: 'request needs 2100 KV cells (prompt + max_new_tokens), more than the pool of 1024 (--max-batch-total-tokens) holds',
      });

      h.scheduler.submit(request(2, promptIds(0, 20), 3));
      h.scheduler.step();
      h.engine.relayoutUnavailable = true;
      h.scheduler.submit(request(3, promptIds(20, 100), 400));
      h.scheduler.submit(request(4, promptIds(40, 10), 2));
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      const errors = h.events.filter((e) => e.kind === 'error').map((e) => e.requestId);
      assert.deepEqual(errors, [1, 3]);
      assert.deepEqual([...h.finishes().keys()].sort(), [2, 4]);
      assert.equal(h.finishes().get(2)!.generatedTokens, 3, 'the running request continued in the old layout');
    });
  });

  describe('chunked prefill', () => {
    for (const budget of [16, 48, 64, 100, 200]) {
      it(`with --max-batch-prefill-tokens ${budget}, no step holds more than the budget plus one token per sequence`, () => {
        const h = harness({ maxSequences: 4, sequenceContextSize: 512, maxBatchTokens: 512 }, { maxPrefillTokens: budget });
        const prompts = [300, 40, 150, 7].map((length, i) => promptIds(i * 11, length));
        h.scheduler.submit(request(1, prompts[0], 30));
        h.scheduler.step();
        const prefilled = [h.scheduler.state.prefilledTokens];
        for (let i = 1; i < prompts.length; i++) h.scheduler.submit(request(i + 1, prompts[i], 20));
        for (let i = 0; i < 1000 && h.scheduler.state.running + h.scheduler.state.waiting > 0; i++) {
          const before = h.scheduler.state.prefilledTokens;
          h.scheduler.step();
          prefilled.push(h.scheduler.state.prefilledTokens - before);
        }
        assert.deepEqual(h.engine.violations, []);
        assert.deepEqual([...h.finishes().keys()].sort(), [1, 2, 3, 4]);
        assert.equal(prefilled.length, h.engine.batches.length, 'one decode per step');
        for (const [i, batch] of h.engine.batches.entries()) {
          // llama.cpp's batch holds the budget plus one token per sequence (its decode or its prompt's last token).
          const sequences = new Set(batch.entries.map((e) => e.sequence)).size;
          const shape = JSON.stringify(batch.entries.map((e) => [e.sequence, e.startPosition, e.tokens.length]));
          assert.ok(batchSize(batch) <= budget + sequences, `step ${i}: ${batchSize(batch)} tokens: ${shape}`);
          assert.ok(prefilled[i] <= budget + sequences, `step ${i}: ${prefilled[i]} prompt tokens: ${shape}`);
        }
        for (const [id, finish] of h.finishes()) assert.equal(finish.inputLength, prompts[id - 1].length);
      });
    }

    it('a long prompt is cut into chunks that follow one another in its cells, while a running stream decodes at every step', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 512 }, { maxPrefillTokens: 100 });
      h.scheduler.submit(request(1, promptIds(0, 10), 12));
      h.scheduler.step();
      const long = promptIds(5, 330);
      h.scheduler.submit(request(2, long, 2));
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      const streaming = h.engine.batches.slice(1, 11);
      for (const batch of streaming)
        assert.ok(
          batch.entries.some((e) => e.sequence === 0 && e.tokens.length === 1),
          'request 1 decodes at every step',
        );
      const chunks = h.engine.batches.flatMap((b) =>
        b.entries.filter((e) => e.sequence === 1 && e.startPosition < long.length).map((e) => [e.startPosition, e.tokens.length]),
      );
      // Every prompt token once, in order (a cut that left less than a tiled chunk is recomputed).
      let end = 0;
      for (const [start, length] of chunks) {
        assert.ok(start <= end, `chunk at ${start} after cells up to ${end}`);
        end = start + length;
      }
      assert.equal(end, long.length);
      assert.equal(h.engine.cellsOf(1).slice(0, long.length).join(), long.join(), 'the cells hold the prompt');
    });
  });

  describe('cancellation', () => {
    it('a running request is freed at once: its reservation returns and a waiting request takes its slot at the next step', () => {
      const h = harness({ maxSequences: 1, sequenceContextSize: 256 });
      h.scheduler.submit(request(1, promptIds(0, 40), 100));
      h.scheduler.submit(request(2, promptIds(50, 40), 5));
      h.scheduler.step();
      h.scheduler.step();
      assert.deepEqual([h.scheduler.state.running, h.scheduler.state.waiting, h.scheduler.state.usedCells], [1, 1, 41]);
      const before = h.events.length;
      h.scheduler.cancel(1);
      assert.deepEqual(h.events.slice(before), [{ kind: 'dropped', requestId: 1 }], 'dropped without a step');
      assert.deepEqual(
        [h.scheduler.state.running, h.scheduler.state.waiting, h.scheduler.state.reservedTokens, h.scheduler.state.usedCells],
        [0, 1, 0, 0],
      );
      const decodes = h.engine.batches.length;
      h.scheduler.step();
      assert.deepEqual(
        h.engine.batches[decodes].entries.map((e) => [e.sequence, e.startPosition, e.tokens[0]]),
        [[0, 0, 52]],
        'request 2 in slot 0',
      );
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.ok(
        !h.engine.batches.slice(decodes).some((b) => b.entries.some((e) => e.tokens[0] === 2 || e.startPosition > 40 + 5)),
        'request 1 never decodes again',
      );
      assert.equal(h.events.filter((e) => e.requestId === 1 && e.kind !== 'dropped').length, 2, 'two tokens before the cancel, none after');
      assert.equal(h.finishes().get(2)!.generatedTokens, 5);
    });

    it('a waiting request is dequeued without running; cancelling an unknown or finished request does nothing', () => {
      const h = harness({ maxSequences: 1, sequenceContextSize: 256 });
      h.scheduler.submit(request(1, promptIds(0, 10), 3));
      h.scheduler.submit(request(2, promptIds(30, 10), 3));
      h.scheduler.cancel(2);
      assert.deepEqual(h.events, [{ kind: 'dropped', requestId: 2 }]);
      h.drain();
      h.scheduler.cancel(1);
      h.scheduler.cancel(99);
      assert.deepEqual(
        h.events.filter((e) => e.kind === 'dropped'),
        [{ kind: 'dropped', requestId: 2 }],
      );
      assert.ok(
        h.engine.batches.every((b) => b.entries.every((e) => e.tokens[0] !== 32)),
        'request 2 never ran',
      );
    });

    it('cancelling every request (stopAll) leaves the scheduler idle, and close() ends its loop', async () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 });
      const loop = h.scheduler.run();
      for (let id = 1; id <= 4; id++) h.scheduler.submit(request(id, promptIds(id * 10, 20), 200));
      while (h.engine.batches.length < 3) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual([h.scheduler.state.running, h.scheduler.state.waiting], [2, 2]);
      for (let id = 1; id <= 4; id++) h.scheduler.cancel(id);
      const decodes = h.engine.batches.length;
      assert.deepEqual(
        h.events
          .filter((e) => e.kind === 'dropped')
          .map((e) => e.requestId)
          .sort(),
        [1, 2, 3, 4],
      );
      assert.deepEqual(h.states.at(-1), { ...h.states.at(-1)!, running: 0, waiting: 0, reservedTokens: 0, usedCells: 0 });
      h.scheduler.close();
      await loop;
      assert.equal(h.engine.batches.length, decodes, 'no step after the cancels');
      assert.equal(h.finishes().size, 0);
    });
  });

  describe('prefix cache', () => {
    // Below 64 tokens of prefill budget every prompt is computed query by query: any shared prefix is reusable.
    const untiled = { maxPrefillTokens: 48 };

    it('a prompt sharing 32 or more tokens with one cached in a free slot reuses those cells', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, untiled);
      const shared = promptIds(0, 40);
      h.scheduler.submit(request(1, [...shared, 50, 51], 2));
      h.drain();
      h.scheduler.submit(request(2, [...shared, 60, 61, 62], 2));
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      const ops = kvOperations(h.engine);
      assert.deepEqual(ops.at(-1), { kind: 'truncate', sequence: 0, position: 40 }, 'request 2 placed in slot 0 keeping 40 cells');
      const finish = h.finishes().get(2)!;
      assert.equal(finish.cachedTokens, 40);
      assert.deepEqual([h.scheduler.state.reusedPromptTokens, h.scheduler.state.prefixCacheHits], [40, 1]);
      const first = h.engine.batches.find((b) => b.entries.some((e) => e.tokens[0] === 60))!;
      assert.deepEqual(first.entries, [{ sequence: 0, tokens: [60, 61, 62], startPosition: 40, outputs: 'last' }]);
    });

    it('the same prompt again reuses every cell but its last token, whose logits are computed', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, untiled);
      const prompt = promptIds(0, 45);
      h.scheduler.submit(request(1, prompt, 2));
      h.drain();
      h.scheduler.submit(request(2, prompt, 2));
      h.drain();
      assert.equal(h.finishes().get(2)!.cachedTokens, 44);
      assert.deepEqual(h.engine.batches.at(-2)!.entries, [{ sequence: 0, tokens: [prompt[44]], startPosition: 44, outputs: 'last' }]);
      assert.equal(h.finishes().get(1)!.generatedText, h.finishes().get(2)!.generatedText);
    });

    it('a short shared prefix is not worth a cached prompt: a fresh slot is taken', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, untiled);
      const shared = promptIds(0, 20);
      h.scheduler.submit(request(1, [...shared, ...promptIds(30, 20)], 2));
      h.drain();
      h.scheduler.submit(request(2, [...shared, ...promptIds(50, 20)], 2));
      h.drain();
      assert.deepEqual(kvOperations(h.engine).at(-1), { kind: 'truncate', sequence: 1, position: 0 });
      assert.equal(h.finishes().get(2)!.cachedTokens, 0);
    });

    it('a running request with a long shared prefix lends a copy of its cells', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, untiled);
      const shared = promptIds(0, 40);
      h.scheduler.submit(request(1, [...shared, 50], 50));
      h.scheduler.step();
      h.scheduler.submit(request(2, [...shared, 60], 3));
      h.scheduler.step();
      assert.deepEqual(kvOperations(h.engine).slice(-2), [
        { kind: 'copy', source: 0, destination: 1 },
        { kind: 'truncate', sequence: 1, position: 40 },
      ]);
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.equal(h.finishes().get(2)!.cachedTokens, 40);
    });

    it('a prompt that will soon share a prefix still being prefilled waits for it rather than computing it twice', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, untiled);
      const shared = promptIds(0, 100);
      h.scheduler.submit(request(1, [...shared, 50], 3));
      h.scheduler.step();
      h.scheduler.submit(request(2, [...shared, 60], 3));
      h.scheduler.step();
      assert.deepEqual([h.scheduler.state.running, h.scheduler.state.waiting], [1, 1]);
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.equal(h.finishes().get(2)!.cachedTokens, 100);
      assert.equal(h.scheduler.state.prefilledTokens, 101 + 1);
    });

    it('no reuse without prefix caching, for prompt logprobs, or across LoRA adapters', () => {
      const prompt = promptIds(0, 45);
      const cases: [string, Partial<SchedulerLimits>, Parameters<typeof request>[3], Parameters<typeof request>[3]][] = [
        ['prefix caching off', { ...untiled, prefixCaching: false }, {}, {}],
        ['prompt logprobs', untiled, {}, { prefillLogprobs: true }],
        ['another adapter', untiled, {}, { adapter: 'a' }],
      ];
      for (const [name, limits, first, second] of cases) {
        const h = harness({ maxSequences: 2, sequenceContextSize: 256 }, limits);
        h.scheduler.submit(request(1, prompt, 2, first));
        h.drain();
        h.scheduler.submit(request(2, prompt, 2, second));
        h.drain();
        assert.deepEqual(h.engine.violations, [], name);
        assert.equal(h.finishes().get(2)!.cachedTokens, 0, name);
        assert.equal(h.scheduler.state.prefixCacheHits, 0, name);
      }
    });

    it('with the tiled kernel, a partial match keeps only cells that leave a whole tiled chunk to compute', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 512 }, { maxPrefillTokens: 256 });
      const shared = promptIds(0, 100);
      h.scheduler.submit(request(1, [...shared, ...promptIds(40, 60)], 2));
      h.drain();
      // 100 shared tokens, then 20 more: recomputing 20 would go query by query, so 119 - 64 = 55 are kept.
      h.scheduler.submit(request(2, [...shared, ...promptIds(20, 20)], 2));
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.equal(h.finishes().get(2)!.cachedTokens, 55);
      assert.deepEqual(kvOperations(h.engine).at(-1), { kind: 'truncate', sequence: 0, position: 55 });
    });
  });

  describe('a failing decode', () => {
    it('ends the requests it ran with error events; the engine is reset and waiting requests run afterwards', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 });
      h.scheduler.submit(request(1, promptIds(0, 10), 20));
      h.scheduler.submit(request(2, promptIds(20, 10), 20));
      h.scheduler.submit(request(3, promptIds(40, 10), 3));
      h.scheduler.step();
      h.scheduler.step();
      h.engine.failDecode = () => 'llama_decode returned -3';
      h.scheduler.step();
      h.engine.failDecode = undefined;
      const errors = h.events.filter((e) => e.kind === 'error');
      assert.deepEqual(errors, [
        { kind: 'error', requestId: 1, failure: 'engine', message: 'llama_decode returned -3' },
        { kind: 'error', requestId: 2, failure: 'engine', message: 'llama_decode returned -3' },
      ]);
      assert.deepEqual(kvOperations(h.engine).at(-1), { kind: 'reset' });
      assert.deepEqual([h.scheduler.state.running, h.scheduler.state.waiting, h.scheduler.state.reservedTokens], [0, 1, 0]);
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      assert.deepEqual([...h.finishes().keys()], [3]);
      assert.equal(h.finishes().get(3)!.cachedTokens, 0, 'nothing is reused from cells the reset dropped');
      assert.equal(
        h.events.filter((e) => e.requestId === 1 || e.requestId === 2).length,
        4 + 2,
        'two tokens each, then the error, nothing after',
      );
    });

    it('the requests of another LoRA adapter, not in the failed batch, fail with it: the reset dropped their cells', () => {
      const h = harness({ maxSequences: 2, sequenceContextSize: 256 });
      h.scheduler.loadAdapter('a', 'a.gguf');
      h.scheduler.submit(request(1, promptIds(0, 10), 20));
      h.scheduler.submit(request(2, promptIds(20, 10), 20, { adapter: 'a' }));
      h.engine.failDecode = (batch) => (batch.adapter === 'a' ? 'failed' : undefined);
      h.drain();
      assert.deepEqual(h.engine.violations, []);
      // The base model's set runs 8 steps, then adapter a's first decode fails.
      assert.deepEqual(
        h.engine.batches.map((b) => b.adapter ?? ''),
        [...Array(8).fill(''), 'a'],
      );
      assert.deepEqual(
        h.events
          .filter((e) => e.kind === 'error')
          .map((e) => e.requestId)
          .sort(),
        [1, 2],
      );
      assert.equal(h.finishes().size, 0);
    });
  });
});
