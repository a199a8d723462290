// End to end, below the scheduler: the image encoder (the addon's llama.cpp) tokenizes a prompt
// with an image and turns the image into rows; our own libllama decodes the text tokens and the
// rows (llama_batch.embd) of the same text model, then continues greedily. Only ids and floats
// cross between the two builds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeProjector, writeVisionTextModel, type ProjectorFamily } from '../../src/bench/model/projector.js';
import { MtmdImageEncoder, type RgbImage } from '../../src/vision/encoder.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { noisePixels } from '../../src/bench/vision-reference.js';
import { STORIES } from '../helpers/models.js';
import { greedyFromRows } from '../helpers/rows-decode.js';

const WIDTH = 64;
const GENERATED = 12;

const noise = noisePixels;

for (const family of ['mlp', 'idefics3', 'gemma3', 'qwen2.5vl'] as const satisfies readonly ProjectorFamily[])
  describe(`an image decoded by our libllama from the encoder rows (${family})`, () => {
    let dir: string;
    let encoder: MtmdImageEncoder;
    let model: LlamaModel;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tgi-node-mtmd-decode-'));
      const textModel = join(dir, `text-${family}.gguf`);
      const projector = join(dir, `mmproj-${family}.gguf`);
      await writeVisionTextModel(STORIES, textModel, family);
      writeProjector({ family, outPath: projector, outputWidth: WIDTH });
      encoder = await MtmdImageEncoder.open(textModel, projector, { threads: 1 });
      model = LlamaModel.load(textModel);
    });

    after(async () => {
      await encoder.close();
      model.free();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Greedy continuation of `prompt`, its images' rows fed as embeddings. */
    const generate = async (prompt: string, images: RgbImage[]) => (await greedyFromRows(model, encoder, prompt, images, GENERATED)).text;

    it('continues differently for different images, identically for the same one, and apart from the text alone', async (t) => {
      const prompt = `Once upon a time ${encoder.info.marker} there was`;
      const a = await generate(prompt, [noise(112, 112, 1)]);
      const again = await generate(prompt, [noise(112, 112, 1)]);
      const b = await generate(prompt, [noise(112, 112, 2)]);
      const textOnly = await generate('Once upon a time  there was', []);
      t.diagnostic(JSON.stringify({ a, b, textOnly }));
      assert.equal(again, a);
      assert.notEqual(b, a, `${a} / ${b}`);
      assert.notEqual(a, textOnly);
      assert.ok(a.trim().length > 0, a);
    });
  });
