import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromFloat16Bits, quantizeQ4_0, quantizeQ8_0, toFloat16Bits } from '../../src/bench/model/quantize.js';
import { dequantizeQ4_0, dequantizeQ8_0 } from '../helpers/dequantize.js';

describe('quantization', () => {
  it('converts to and from IEEE half precision', () => {
    for (const [value, bits] of [
      [0, 0],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [0.5, 0x3800],
      [6.103515625e-5, 0x0400],
      [5.960464477539063e-8, 0x0001],
    ] as const) {
      assert.equal(toFloat16Bits(value), bits, `${value}`);
      assert.equal(fromFloat16Bits(bits), value);
    }
    assert.equal(toFloat16Bits(1e6), 0x7c00);
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00, 'ties round to even');
  });

  it('Q8_0 round-trips within half a step of each block scale', () => {
    const values = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const data = quantizeQ8_0(values);
    assert.equal(data.length, 8 * 34);
    const back = dequantizeQ8_0(data, values.length);
    for (let b = 0; b < 8; b++) {
      const block = values.subarray(b * 32, b * 32 + 32);
      const step = Math.max(...Array.from(block, Math.abs)) / 127;
      for (let j = 0; j < 32; j++) assert.ok(Math.abs(back[b * 32 + j] - block[j]) <= step * 0.51 + 1e-3, `${b}:${j}`);
    }
  });

  it('Q4_0 round-trips within one step and keeps the largest magnitude exact up to f16', () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => ((i * 13) % 17) - 8.5);
    const back = dequantizeQ4_0(quantizeQ4_0(values), values.length);
    const step = 8.5 / 8;
    for (let j = 0; j < 64; j++) assert.ok(Math.abs(back[j] - values[j]) <= step + 1e-3, `${j}: ${back[j]} vs ${values[j]}`);
    assert.equal(quantizeQ4_0(values).length, 2 * 18);
  });
});
