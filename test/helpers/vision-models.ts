// Vision test models: a text model made from stories260K for each projector family (its image
// marker tokens in the vocabulary), optionally requantized to Q8_0 (batch-invariant logits), and a
// random-weight projector of the family whose rows are the text model's width.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeProjector, writeVisionTextModel, type ProjectorFamily } from '../../src/bench/model/projector.js';
import { requantizeGguf } from '../../src/bench/model/requantize.js';
import { STORIES } from './models.js';

/** stories260K's embedding width. */
export const STORIES_WIDTH = 64;

export interface VisionPair {
  model: string;
  projector: string;
}

const made = new Map<string, Promise<VisionPair>>();

export function visionPair(family: ProjectorFamily, { quantized = false, seed = 1 } = {}): Promise<VisionPair> {
  const key = `${family}:${quantized}:${seed}`;
  let pair = made.get(key);
  if (!pair) {
    pair = (async () => {
      const dir = mkdtempSync(join(tmpdir(), `tgi-node-vision-${family}-`));
      const text = join(dir, `text-${family}.gguf`);
      await writeVisionTextModel(STORIES, text, family);
      let model = text;
      if (quantized) {
        model = join(dir, `text-${family}-q8_0.gguf`);
        await requantizeGguf(text, model, 'q8_0');
      }
      const projector = join(dir, `mmproj-${family}-f16.gguf`);
      writeProjector({ family, outPath: projector, outputWidth: STORIES_WIDTH, seed });
      return { model, projector };
    })();
    made.set(key, pair);
  }
  return pair;
}

/** An opaque PNG of seeded noise. */
export function noisePicture(width: number, height: number, seed: number): { width: number; height: number; rgba: Uint8Array } {
  const rgba = new Uint8Array(width * height * 4);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < rgba.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    rgba[i] = i % 4 === 3 ? 255 : x & 0xff;
  }
  return { width, height, rgba };
}
