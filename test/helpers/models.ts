// The shared models the tests run on, and the greedy continuation the smallest one writes.
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { requantizeGguf } from '../../src/bench/model/requantize.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED = resolve(root, '..', 'shared');
export const STORIES = join(SHARED, 'models', 'stories260K.gguf');
export const GREEDY_CONTINUATION = ', there was a little girl named Lily. She loved to play outside in the park.';

let quantized: Promise<string> | undefined;

/**
 * stories260K with its weights quantized to Q8_0 by our own quantizer. llama.cpp's CPU kernels
 * give quantized weights bit-identical logits whatever the batch holds; F32 weights do not.
 */
export function quantizedStories(): Promise<string> {
  quantized ??= (async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-test-')), 'stories260K-q8_0.gguf');
    await requantizeGguf(STORIES, path, 'q8_0');
    return path;
  })();
  return quantized;
}
