// The inverse of the benchmark models' quantizers (Q8_0, Q4_0), for checking what they wrote.
import { fromFloat16Bits, Q4_0_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK } from '../../src/bench/model/quantize.js';

export function dequantizeQ8_0(data: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let b = 0, o = 0; b < count; b += QK, o += Q8_0_BLOCK_BYTES) {
    const d = fromFloat16Bits(view.getUint16(o, true));
    for (let j = 0; j < QK; j++) out[b + j] = view.getInt8(o + 2 + j) * d;
  }
  return out;
}

export function dequantizeQ4_0(data: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let b = 0, o = 0; b < count; b += QK, o += Q4_0_BLOCK_BYTES) {
    const d = fromFloat16Bits(view.getUint16(o, true));
    for (let j = 0; j < QK / 2; j++) {
      out[b + j] = ((data[o + 2 + j] & 0x0f) - 8) * d;
      out[b + QK / 2 + j] = ((data[o + 2 + j] >> 4) - 8) * d;
    }
  }
  return out;
}
