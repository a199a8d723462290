import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MersenneTwister } from '../../src/sampling/mt19937.js';
import { greenList, scoreWatermark, seededPermutation, watermarkSeed } from '../../src/sampling/watermark.js';

describe('watermark', () => {
  it('MT19937 matches the reference first output for seed 5489', () => {
    assert.equal(new MersenneTwister(5489).nextUint32(), 3499211612);
  });

  it('derives the seed from the previous token like TGI', () => {
    assert.equal(watermarkSeed(42), 650406246);
    assert.equal(watermarkSeed(0), 0);
    // 15485863 * 300000 overflows 32 bits: only the low bits are kept.
    assert.equal(watermarkSeed(300000), Number((15485863n * 300000n) % 2n ** 32n));
  });

  it('builds the specified permutation for V=10, prev=42', () => {
    assert.deepEqual(Array.from(seededPermutation(10, watermarkSeed(42))), [4, 5, 6, 0, 7, 2, 1, 8, 3, 9]);
  });

  it('green list is the first floor(V*gamma) entries', () => {
    assert.deepEqual(Array.from(greenList(42, 10, 0.5)), [4, 5, 6, 0, 7]);
    assert.equal(greenList(7, 1000, 0.25).length, 250);
  });

  it('the detector scores green-only text high and random text near zero', () => {
    const vocab = 200;
    const green: number[] = [3];
    for (let i = 0; i < 100; i++) green.push(greenList(green[i], vocab, 0.5)[i % 10]);
    assert.ok(scoreWatermark(green, vocab, { gamma: 0.5 }).zScore > 9);
    let x = 12345;
    const random = Array.from({ length: 400 }, () => (x = (x * 1103515245 + 12345) % 2 ** 31) % vocab);
    assert.ok(Math.abs(scoreWatermark(random, vocab, { gamma: 0.5 }).zScore) < 4);
  });
});
