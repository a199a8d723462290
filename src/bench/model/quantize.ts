// ggml block quantization (reference algorithms of ggml's quantize_row_*_ref) and f16 conversion.
import { GgmlType, type TensorSpec } from './gguf-writer.js';

export const QK = 32;
export const Q8_0_BLOCK_BYTES = 2 + QK;
export const Q4_0_BLOCK_BYTES = 2 + QK / 2;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision, round to nearest even. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Q8_0: per block of 32, an f16 scale d = max|x| / 127 and 32 signed bytes round(x / d). */
export function quantizeQ8_0(values: Float32Array, out: Uint8Array = new Uint8Array((values.length / QK) * Q8_0_BLOCK_BYTES)): Uint8Array {
  if (values.length % QK !== 0) throw new Error(`Q8_0 needs a multiple of ${QK} values`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let b = 0, o = 0; b < values.length; b += QK, o += Q8_0_BLOCK_BYTES) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(values[b + j]));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    view.setUint16(o, toFloat16Bits(d), true);
    for (let j = 0; j < QK; j++) view.setInt8(o + 2 + j, Math.round(values[b + j] * id));
  }
  return out;
}

/** Q4_0: per block of 32, an f16 scale d = -max/8 (max = the value of largest magnitude) and 4-bit codes. */
export function quantizeQ4_0(values: Float32Array, out: Uint8Array = new Uint8Array((values.length / QK) * Q4_0_BLOCK_BYTES)): Uint8Array {
  if (values.length % QK !== 0) throw new Error(`Q4_0 needs a multiple of ${QK} values`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let b = 0, o = 0; b < values.length; b += QK, o += Q4_0_BLOCK_BYTES) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = values[b + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d ? 1 / d : 0;
    view.setUint16(o, toFloat16Bits(d), true);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = Math.min(15, Math.trunc(values[b + j] * id + 8.5));
      const x1 = Math.min(15, Math.trunc(values[b + QK / 2 + j] * id + 8.5));
      out[o + 2 + j] = x0 | (x1 << 4);
    }
  }
  return out;
}

export type Quantization = 'q8_0' | 'q4_0';

interface Scheme {
  /** general.file_type of a model quantized this way. */
  fileType: number;
  ggmlType: GgmlType;
  blockBytes: number;
  quantize: (values: Float32Array) => Uint8Array;
}

export const QUANTIZATIONS: Record<Quantization, Scheme> = {
  q8_0: { fileType: 7, ggmlType: GgmlType.Q8_0, blockBytes: Q8_0_BLOCK_BYTES, quantize: (v) => quantizeQ8_0(v) },
  q4_0: { fileType: 2, ggmlType: GgmlType.Q4_0, blockBytes: Q4_0_BLOCK_BYTES, quantize: (v) => quantizeQ4_0(v) },
};

/** A weight tensor whose values, produced when it is written, are quantized then. dims[0] % QK must be 0. */
export function quantizedTensor(name: string, dims: number[], quantization: Quantization, values: () => Float32Array): TensorSpec {
  if (dims[0] % QK !== 0) throw new Error(`${name}: row length ${dims[0]} is not a multiple of ${QK}`);
  const scheme = QUANTIZATIONS[quantization];
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, dims, type: scheme.ggmlType, byteSize: (count / QK) * scheme.blockBytes, data: () => scheme.quantize(values()) };
}
