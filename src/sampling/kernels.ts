// The vocabulary-wide loops of token choice (argmax, softmax normaliser, weighted draw), run as
// WebAssembly SIMD kernels (kernels.wat): a step at high concurrency runs them once per sequence.
import { readFileSync } from 'node:fs';

interface Exports {
  memory: WebAssembly.Memory;
  argmax(ptr: number, n: number): number;
  sumExp(ptr: number, n: number, max: number): number;
  draw(ptr: number, n: number, max: number, target: number): number;
}

class ScoreKernels {
  private readonly exports: Exports;
  private view: Float32Array;
  private length = 0;

  constructor() {
    const module = new WebAssembly.Module(readFileSync(new URL('./kernels.wasm', import.meta.url)));
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
    this.view = new Float32Array(this.exports.memory.buffer);
  }

  /** Copies scores in (padded with -Infinity to a multiple of 8); the other calls work on them. */
  load(scores: Float32Array): void {
    const padded = (scores.length + 7) & ~7;
    const needed = padded * 4;
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / 65536));
    if (this.view.buffer !== memory.buffer) this.view = new Float32Array(memory.buffer);
    this.view.set(scores, 0);
    this.view.fill(-Infinity, scores.length, padded);
    this.length = padded;
  }

  argmax(): number {
    return this.exports.argmax(0, this.length);
  }

  /** Sum of exp(score - max). */
  sumExp(max: number): number {
    return this.exports.sumExp(0, this.length, max);
  }

  /** First index where the running sum of exp(score - max) exceeds `target`. */
  draw(max: number, target: number): number {
    return this.exports.draw(0, this.length, max, target);
  }
}

let shared: ScoreKernels | undefined;

/** One instance per thread. */
export function scoreKernels(): ScoreKernels {
  shared ??= new ScoreKernels();
  return shared;
}
