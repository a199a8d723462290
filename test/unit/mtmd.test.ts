// The image encoder (llama.cpp's mtmd from the prebuilt addon) on random-weight projectors of the
// four families, each paired with a text model made from stories260K: how a prompt with images
// is cut into chunks, how many rows and positions an image takes, and the rows themselves.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import {
  IDEFICS3_SCALE_FACTOR,
  PROJECTOR_FAMILIES,
  SMALL_VISION,
  writeProjector,
  writeVisionTextModel,
  type ProjectorFamily,
} from '../../src/bench/model/projector.js';
import { MtmdImageEncoder, type EncoderPrompt, type PromptChunk, type RgbImage } from '../../src/vision/encoder.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import { STORIES } from '../helpers/models.js';
import { noisePixels } from '../../src/bench/vision-reference.js';

const noise = noisePixels;

const WIDTH = 64; // stories260K's embedding width
const PROMPT_HEAD = 'Once upon a time';

interface Family {
  encoder: MtmdImageEncoder;
  vocabulary: LlamaModel;
  textModel: string;
}

const images = (prompt: EncoderPrompt) => prompt.chunks.filter((c): c is Extract<PromptChunk, { kind: 'image' }> => c.kind === 'image');
const texts = (prompt: EncoderPrompt, family: Family) =>
  prompt.chunks.filter((c) => c.kind === 'text').map((c) => family.vocabulary.vocabulary.decode(c.tokens, true));

describe('image encoder (mtmd) on random-weight projectors', () => {
  let dir: string;
  const families = new Map<ProjectorFamily, Family>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgi-node-mtmd-'));
    for (const family of PROJECTOR_FAMILIES) {
      const textModel = join(dir, `text-${family}.gguf`);
      const projector = join(dir, `mmproj-${family}.gguf`);
      await writeVisionTextModel(STORIES, textModel, family);
      writeProjector({ family, outPath: projector, outputWidth: WIDTH });
      const encoder = await MtmdImageEncoder.open(textModel, projector, { threads: 1 });
      families.set(family, { encoder, vocabulary: LlamaModel.load(textModel, { vocabOnly: true }), textModel });
    }
  });

  after(async () => {
    for (const family of families.values()) {
      await family.encoder.close();
      family.vocabulary.free();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (family: ProjectorFamily) => {
    const found = families.get(family);
    assert.ok(found, family);
    return found;
  };
  const tokenize = (family: ProjectorFamily, list: RgbImage[]) => {
    const { encoder } = get(family);
    const markers = list.map(() => ` ${encoder.info.marker}`).join(' and');
    return encoder.tokenize(`${PROMPT_HEAD}${markers} there was`, list);
  };

  it('writes the keys and tensors clip reads, with rows as wide as the text model', async () => {
    const { metadata, tensorInfos } = await gguf(join(dir, 'mmproj-qwen2.5vl.gguf'), { allowLocalFile: true });
    const fields = metadata as Record<string, unknown>;
    assert.equal(fields['general.architecture'], 'clip');
    assert.equal(fields['clip.projector_type'], 'qwen2.5vl_merger');
    assert.equal(fields['clip.vision.n_wa_pattern'], 2);
    const shape = (name: string) => tensorInfos.find((t) => t.name === name)?.shape.map(Number);
    const e = SMALL_VISION['qwen2.5vl'].width;
    assert.deepEqual(shape('v.patch_embd.weight'), [14, 14, 3, e]);
    assert.deepEqual(shape('v.patch_embd.weight.1'), [14, 14, 3, e]);
    assert.deepEqual(shape('mm.2.weight'), [4 * e, WIDTH]);
    const idefics = await gguf(join(dir, 'mmproj-idefics3.gguf'), { allowLocalFile: true });
    const fc = idefics.tensorInfos.find((t) => t.name === 'mm.model.fc.weight')?.shape.map(Number);
    assert.deepEqual(fc, [SMALL_VISION.idefics3.width * IDEFICS3_SCALE_FACTOR ** 2, WIDTH]);
  });

  it('opens every family, with M-RoPE only for qwen2.5vl', () => {
    for (const family of PROJECTOR_FAMILIES) {
      const { info } = get(family).encoder;
      assert.equal(info.width, WIDTH, family);
      assert.equal(info.mrope, family === 'qwen2.5vl', family);
      assert.equal(info.marker, '<__media__>');
    }
  });

  it('mlp: an image is one chunk of (image size / patch)^2 rows, whatever its size', async () => {
    for (const [w, h] of [
      [56, 56],
      [200, 90],
    ]) {
      const prompt = await tokenize('mlp', [noise(w, h, 1)]);
      assert.deepEqual(
        prompt.chunks.map((c) => c.kind),
        ['text', 'image', 'text'],
      );
      assert.deepEqual(
        images(prompt).map((c) => [c.tokens, c.positions]),
        [[16, 16]],
      );
      assert.equal(images(prompt)[0].id, null);
      // The text around the marker keeps its spaces.
      assert.deepEqual(texts(prompt, get('mlp')), [`<s> ${PROMPT_HEAD} `, ' there was']);
      prompt.dispose();
    }
  });

  it('carries an image id (a hash of its pixels, for the prefix cache) to its chunks', async () => {
    const prompt = await tokenize('idefics3', [{ ...noise(112, 112, 4), id: 'pixels-sha256' }]);
    const ids = images(prompt).map((c) => c.id);
    assert.equal(ids.length, 5);
    assert.ok(
      ids.every((id) => id === 'pixels-sha256'),
      ids.join(),
    );
    prompt.dispose();
  });

  it('gemma3: 4 x 4 pooled rows between <start_of_image> and <end_of_image>, decoded non-causally', async () => {
    const prompt = await tokenize('gemma3', [noise(100, 100, 1)]);
    assert.deepEqual(
      images(prompt).map((c) => [c.tokens, c.positions]),
      [[16, 16]],
    );
    const [before, afterText] = texts(prompt, get('gemma3'));
    assert.ok(before.endsWith('<start_of_image>'), before);
    assert.ok(afterText.startsWith('<end_of_image>'), afterText);
    const encoded = await get('gemma3').encoder.encode(prompt, 1, 7);
    assert.equal(encoded.nonCausal, true);
    assert.equal(encoded.rows.length, 16 * WIDTH);
    assert.deepEqual(
      Array.from(encoded.positions),
      Array.from({ length: 16 }, (_, i) => 7 + i),
    );
    assert.equal(encoded.next, 23);
    prompt.dispose();
  });

  it('idefics3: a global image and one 56-pixel tile per grid cell, each 2 x 2 rows, with row and column markers', async () => {
    // 112 x 112 -> longest side 112 -> a 2 x 2 grid; 200 x 100 -> 112 x 56 -> 2 x 1.
    for (const [w, h, rows, cols] of [
      [112, 112, 2, 2],
      [200, 100, 1, 2],
    ]) {
      const prompt = await tokenize('idefics3', [noise(w, h, 2)]);
      const chunks = images(prompt);
      assert.equal(chunks.length, rows * cols + 1, `${w}x${h}`);
      for (const chunk of chunks) assert.equal(chunk.tokens, 4);
      const text = texts(prompt, get('idefics3')).join('|');
      for (let r = 1; r <= rows; r++) for (let c = 1; c <= cols; c++) assert.ok(text.includes(`<row_${r}_col_${c}>`), text);
      assert.ok(!text.includes(`<row_${rows + 1}_col_1>`), text);
      assert.ok(text.includes('<fake_token_around_image><global-img>'), text);
      prompt.dispose();
    }
  });

  it('qwen2.5vl: one row per 2 x 2 patches of the image at its own size, at M-RoPE positions', async () => {
    const prompt = await tokenize('qwen2.5vl', [noise(168, 56, 3)]);
    const [chunk] = images(prompt);
    // 168 x 56 pixels = 12 x 4 patches = 6 x 2 rows; the image spans max(6, 2) positions.
    assert.deepEqual([chunk.tokens, chunk.positions], [12, 6]);
    const [before, afterText] = texts(prompt, get('qwen2.5vl'));
    assert.ok(before.endsWith('<|vision_start|>'), before);
    assert.ok(afterText.startsWith('<|vision_end|>'), afterText);
    const encoded = await get('qwen2.5vl').encoder.encode(prompt, chunk.index, 100);
    assert.equal(encoded.nonCausal, false);
    const plane = (k: number) => Array.from(encoded.positions.subarray(12 * k, 12 * k + 12));
    assert.deepEqual(plane(0), Array(12).fill(100)); // time
    assert.deepEqual(plane(1), [...Array(6).fill(100), ...Array(6).fill(101)]); // row
    assert.deepEqual(plane(2), [100, 101, 102, 103, 104, 105, 100, 101, 102, 103, 104, 105]); // column
    assert.deepEqual(plane(3), Array(12).fill(0));
    assert.equal(encoded.next, 106);
    prompt.dispose();
  });

  it('the same image gives identical rows and a different image different rows, in every family', async () => {
    for (const family of PROJECTOR_FAMILIES) {
      const { encoder } = get(family);
      const encodeFirst = async (image: RgbImage) => {
        const prompt = await tokenize(family, [image]);
        const chunk = images(prompt)[0];
        const { rows } = await encoder.encode(prompt, chunk.index, 0);
        prompt.dispose();
        return rows;
      };
      const a = await encodeFirst(noise(112, 112, 11));
      const again = await encodeFirst(noise(112, 112, 11));
      const b = await encodeFirst(noise(112, 112, 12));
      assert.ok(
        a.every((x) => Number.isFinite(x)),
        family,
      );
      assert.deepEqual(again, a, family);
      let differ = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-4) differ++;
      assert.ok(differ > a.length / 2, `${family}: ${differ} of ${a.length} values differ`);
    }
  });

  it('encodes off the calling thread: the event loop turns while an image encodes', async () => {
    const { encoder } = get('qwen2.5vl');
    // 448 x 448 pixels: 256 rows, long enough to encode that a blocking call would hold the loop.
    const prompt = await tokenize('qwen2.5vl', [noise(448, 448, 5)]);
    const [chunk] = images(prompt);
    assert.equal(chunk.tokens, 256);
    const order: string[] = [];
    const encoding = encoder.encode(prompt, chunk.index, 0).then(() => order.push('encoded'));
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        order.push('loop turned');
        resolve();
      }),
    );
    await encoding;
    assert.deepEqual(order, ['loop turned', 'encoded']);
    prompt.dispose();
  });

  it('encodes with F16 and Q8_0 matrices as with F32 ones, to within their rounding', async () => {
    const image = noise(56, 56, 9);
    const rows: Float32Array[] = [];
    for (const matrixType of ['f32', 'f16', 'q8_0'] as const) {
      const projector = join(dir, `mmproj-mlp-${matrixType}.gguf`);
      writeProjector({ family: 'mlp', outPath: projector, outputWidth: WIDTH, matrixType });
      const encoder = await MtmdImageEncoder.open(get('mlp').textModel, projector, { threads: 1 });
      const prompt = await encoder.tokenize(encoder.info.marker, [image]);
      rows.push((await encoder.encode(prompt, images(prompt)[0].index, 0)).rows);
      prompt.dispose();
      await encoder.close();
    }
    const [f32, ...others] = rows;
    const scale = Math.max(...f32.map(Math.abs));
    for (const [i, other] of others.entries()) {
      let worst = 0;
      for (let k = 0; k < f32.length; k++) worst = Math.max(worst, Math.abs(other[k] - f32[k]));
      assert.ok(worst > 0 && worst < 0.05 * scale, `${['f16', 'q8_0'][i]}: worst difference ${worst} for values up to ${scale}`);
    }
  });

  it('refuses a projector whose rows are not as wide as the text model, naming both widths', async () => {
    for (const family of PROJECTOR_FAMILIES) {
      const narrow = join(dir, `mmproj-narrow-${family}.gguf`);
      writeProjector({ family, outPath: narrow, outputWidth: 48 });
      await assert.rejects(
        MtmdImageEncoder.open(get(family).textModel, narrow),
        new RegExp(`\\(${family.replace('.', '\\.')}.*\\) writes rows of 48 values, but the text model .* takes embeddings of 64`),
      );
    }
  });

  it('refuses a text model given as the projector, and a prompt whose markers do not match the images', async () => {
    await assert.rejects(MtmdImageEncoder.open(STORIES, STORIES), /is not a projector \(architecture llama\)/);
    const { encoder } = get('mlp');
    await assert.rejects(
      encoder.tokenize(`two ${encoder.info.marker} ${encoder.info.marker}`, [noise(56, 56, 1)]),
      /the prompt holds 2 image markers for 1 images/,
    );
    await assert.rejects(encoder.tokenize(encoder.info.marker, [{ width: 4, height: 4, data: new Uint8Array(10) }]), /10 bytes for 4 x 4/);
  });
});
