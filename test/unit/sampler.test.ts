import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceSampler, kthLargest } from '../../src/sampling/sampler.js';
import { SeededRandom } from '../../src/sampling/random.js';
import type { SamplingParams } from '../../src/sampling/params.js';

const GREEDY: SamplingParams = {
  doSample: false,
  temperature: 1,
  topK: 0,
  topP: 1,
  typicalP: 1,
  repetitionPenalty: 1,
  frequencyPenalty: 0,
  seed: 0n,
  watermark: false,
};
const settings = { gamma: 0.5, delta: 2 };
const logits = () => Float32Array.from([1, 3, 2, 0.5, 3, -1]);

describe('sampler', () => {
  it('greedy picks the first maximum and reports its log-softmax', () => {
    const choice = new SequenceSampler(GREEDY, [], settings).choose(logits(), 0);
    assert.equal(choice.id, 1);
    const z = Math.log([1, 3, 2, 0.5, 3, -1].reduce((s, v) => s + Math.exp(v), 0));
    assert.ok(Math.abs(choice.logprob - (3 - z)) < 1e-6);
  });

  it('top-n includes ties and is sorted', () => {
    const choice = new SequenceSampler(GREEDY, [], settings).choose(logits(), 1);
    assert.deepEqual(
      choice.top.map((t) => t.id),
      [1, 4],
    );
    const three = new SequenceSampler(GREEDY, [], settings).choose(logits(), 3);
    assert.deepEqual(
      three.top.map((t) => t.id),
      [1, 4, 2],
    );
  });

  it('top-k keeps ties with the k-th value and makes the rest impossible', () => {
    const sampler = new SequenceSampler({ ...GREEDY, topK: 1, doSample: true, seed: 3n }, [], settings);
    const choice = sampler.choose(logits(), 6);
    assert.deepEqual(choice.top.map((t) => t.id).sort(), [1, 4]);
    assert.ok(Math.abs(choice.top[0].logprob - Math.log(0.5)) < 1e-6);
  });

  it('top-p removes the low tail but always keeps the best token', () => {
    const sampler = new SequenceSampler({ ...GREEDY, topP: 0.01, doSample: true }, [], settings);
    for (let i = 0; i < 20; i++) assert.ok([1, 4].includes(sampler.choose(logits(), 0).id));
  });

  it('repetition penalty divides positive logits of seen tokens', () => {
    const sampler = new SequenceSampler({ ...GREEDY, repetitionPenalty: 4 }, [1], settings);
    assert.equal(sampler.choose(logits(), 0).id, 4);
  });

  it('logit bias shifts raw logits (OpenAI logit_bias)', () => {
    const sampler = new SequenceSampler(
      {
        ...GREEDY,
        logitBias: [
          [3, 10],
          [1, -100],
        ],
      },
      [],
      settings,
    );
    assert.equal(sampler.choose(logits(), 0).id, 3);
  });

  it('presence and count penalties apply to generated tokens only, not the prompt', () => {
    const promptOnly = new SequenceSampler({ ...GREEDY, presencePenalty: 2 }, [1, 4], settings);
    assert.equal(promptOnly.choose(logits(), 0).id, 1);
    const presence = new SequenceSampler({ ...GREEDY, presencePenalty: 0.5 }, [], settings);
    presence.accept(1);
    assert.equal(presence.choose(logits(), 0).id, 4);
    // Count penalty grows with repetitions: token 4 seen twice falls below token 2 (3 - 2*0.6 < 2).
    const count = new SequenceSampler({ ...GREEDY, countPenalty: 0.6 }, [], settings);
    count.accept(1);
    count.accept(1);
    count.accept(4);
    count.accept(4);
    assert.equal(count.choose(logits(), 0).id, 2);
  });

  it('temperature flattens the distribution', () => {
    const hot = new SequenceSampler({ ...GREEDY, temperature: 10 }, [], settings).choose(logits(), 0);
    const plain = new SequenceSampler(GREEDY, [], settings).choose(logits(), 0);
    assert.ok(hot.logprob < plain.logprob);
  });

  it('same seed, same draws; different seeds differ', () => {
    const draw = (seed: bigint) => {
      const s = new SequenceSampler({ ...GREEDY, doSample: true, seed }, [], settings);
      return Array.from({ length: 30 }, () => s.choose(Float32Array.from([0, 0, 0, 0, 0, 0]), 0).id);
    };
    assert.deepEqual(draw(7n), draw(7n));
    assert.notDeepEqual(draw(7n), draw(8n));
  });

  it('sampling follows the distribution', () => {
    const s = new SequenceSampler({ ...GREEDY, doSample: true, seed: 11n }, [], settings);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[s.choose(Float32Array.from([Math.log(3), 0]), 0).id]++;
    assert.ok(Math.abs(counts[0] / 4000 - 0.75) < 0.03, `${counts}`);
  });

  it('kthLargest ignores -Infinity', () => {
    assert.equal(kthLargest(Float32Array.from([5, -Infinity, 2, 9]), 2), 5);
    assert.equal(kthLargest(Float32Array.from([5, -Infinity]), 2), -Infinity);
  });

  it('random floats are uniform in [0, 1) and seeds up to 2^64 work', () => {
    const r = new SeededRandom(18446744073709551615n);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r.nextFloat();
      assert.ok(x >= 0 && x < 1);
      sum += x;
    }
    assert.ok(Math.abs(sum / 10000 - 0.5) < 0.02);
  });
});
