// Top-p without sorting the vocabulary gives what the sorting definition gives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyTopP } from '../../src/sampling/sampler.js';

/** The definition: ascending by score (ties by id), remove while the cumulative probability is at most 1 - p, keep the best. */
function reference(s: Float32Array, p: number): void {
  const ids: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] > -Infinity) ids.push(i);
  ids.sort((a, b) => s[a] - s[b] || a - b);
  if (ids.length <= 1) return;
  const max = s[ids[ids.length - 1]];
  let total = 0;
  for (const id of ids) total += Math.exp(s[id] - max);
  let cumulative = 0;
  for (let i = 0; i < ids.length - 1; i++) {
    cumulative += Math.exp(s[ids[i]] - max);
    if (cumulative <= (1 - p) * total) s[ids[i]] = -Infinity;
    else break;
  }
}

function seeded(seed: number) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

describe('top-p', () => {
  it('keeps the same tokens as sorting the whole vocabulary', () => {
    const random = seeded(42);
    for (let round = 0; round < 400; round++) {
      const size = [1, 2, 5, 50, 1000, 20000][round % 6];
      const spread = [0.1, 3, 20][round % 3];
      const s = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const r = random();
        // Ties (a few distinct values), filtered tokens and a wide range.
        s[i] = r < 0.1 ? -Infinity : round % 4 === 0 ? Math.floor(random() * 4) : (random() - 0.5) * spread;
      }
      const p = [0.01, 0.3, 0.5, 0.9, 0.95, 0.999, 1e-300][round % 7];
      const fast = Float32Array.from(s);
      const slow = Float32Array.from(s);
      applyTopP(fast, p);
      reference(slow, p);
      assert.deepEqual(
        Array.from(fast, (v) => v === -Infinity),
        Array.from(slow, (v) => v === -Infinity),
        `round ${round}, size ${size}, p ${p}`,
      );
    }
  });

  it('always keeps the best token, the highest id among equal best', () => {
    const s = new Float32Array([1, 5, 5, 2]);
    applyTopP(s, 0.01);
    assert.deepEqual(Array.from(s), [-Infinity, -Infinity, 5, -Infinity]);
    for (const scores of [
      [1, 5, 2, 3],
      [0, 0, 0],
      [-3.4e38, 3.4e38, 0],
    ]) {
      const tiny = Float32Array.from(scores);
      applyTopP(tiny, 1e-300);
      assert.equal(Array.from(tiny).filter((v) => v > -Infinity).length, 1, JSON.stringify(scores));
    }
  });
});
