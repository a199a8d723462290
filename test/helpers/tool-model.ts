// A random-weight model with the Qwen2 vocabulary (151,936 tokens) whose placeholder tokens are the
// tool-call markers of every known format, as real models have them: single tokens (special ones
// for most, plain added text for Qwen's tags and for triggers spelled in words). A test can then
// push a marker with logit_bias, as a trained model would choose it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticLlama } from '../../src/bench/model/synthetic-llama.js';
import { TOOL_FORMATS } from '../../src/chat/tools/registry.js';
import { generic } from '../../src/chat/tools/formats/generic.js';
import { SHARED } from './models.js';

/** Added as plain text, as in Qwen's vocabulary. */
const PLAIN = new Set(['<tool_call>', '</tool_call>', '<think>', '</think>']);

export function markerTokenTexts(): { text: string; control: boolean }[] {
  const out = new Map<string, boolean>();
  for (const format of [...TOOL_FORMATS, generic]) {
    for (const marker of format.markers) if (!out.has(marker)) out.set(marker, !PLAIN.has(marker));
    for (const trigger of [...format.triggers, ...(format.openingTriggers ?? [])]) if (!out.has(trigger)) out.set(trigger, false);
    if (format.reasoning)
      for (const text of [format.reasoning.start, format.reasoning.end]) if (!out.has(text)) out.set(text, !PLAIN.has(text));
  }
  return [...out].map(([text, control]) => ({ text, control }));
}

let written: Promise<string> | undefined;

export function toolTestModel(): Promise<string> {
  written ??= (async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tgi-node-tools-')), 'tiny-qwen2-vocab-tools.gguf');
    const shape = { embedding: 64, layers: 2, heads: 4, kvHeads: 2, feedForward: 128, context: 8192 };
    await writeSyntheticLlama({
      shape,
      shapeName: 'tiny',
      vocabPath: join(SHARED, 'models', 'vocab', 'ggml-vocab-qwen2.gguf'),
      quantization: 'q8_0',
      outPath: path,
      addedTokens: markerTokenTexts(),
    });
    return path;
  })();
  return written;
}
