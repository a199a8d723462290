// End to end, below the scheduler: the image encoder (the addon's llama.cpp) tokenizes a prompt
// with an image and turns the image into rows; our own libllama decodes the text tokens and the
// rows (llama_batch.embd) of the same text model, then continues greedily. Only ids and floats
// cross between the two builds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { writeProjector, writeVisionTextModel, type ProjectorFamily } from '../../src/bench/model/projector.js';
import { locateLlamaBinaries } from '../../src/engine/llama/library.js';
import { MtmdImageEncoder, type RgbImage } from '../../src/vision/encoder.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import type { ContextParams, Pointer } from '../../src/engine/llama/binding.js';
import { STORIES } from '../helpers/models.js';

const WIDTH = 64;
const GENERATED = 12;

function noise(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

/** Not among the engine's bindings yet: Gemma 3's image rows attend to each other both ways. */
const setCausalAttention = koffi.load(locateLlamaBinaries().llamaLib).func('void llama_set_causal_attn(void *ctx, bool causal)') as (
  ctx: Pointer,
  causal: boolean,
) => void;

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
    async function generate(prompt: string, images: RgbImage[]): Promise<string> {
      const { api } = model;
      const params = api.llama_context_default_params() as ContextParams;
      params.n_ctx = 256;
      params.n_batch = 256;
      params.n_ubatch = 256;
      params.n_seq_max = 1;
      params.n_threads = 1;
      params.n_threads_batch = 1;
      params.no_perf = true;
      const ctx = api.llama_init_from_model(model.handle, params) as Pointer | null;
      assert.ok(ctx);
      const capacity = 256;
      const token = api.allocBytes(4 * capacity);
      const embd = api.allocBytes(4 * capacity * WIDTH);
      const pos = api.allocBytes(4 * 4 * capacity); // four planes for M-RoPE rows
      const nSeq = api.allocBytes(4 * capacity);
      const seq = api.allocBytes(4 * capacity);
      const seqPtrs = api.allocBytes(8 * capacity);
      const logits = api.allocBytes(capacity);
      new Int32Array(nSeq.buffer).fill(1);
      const pointers = new BigUint64Array(seqPtrs.buffer);
      for (let i = 0; i < capacity; i++) pointers[i] = seq.ptr + BigInt(4 * i);
      const outputs = new Int8Array(logits.buffer);
      const decode = (n: number, rows: boolean) => {
        outputs.fill(0, 0, n);
        outputs[n - 1] = 1;
        const status = api.llama_decode(ctx, {
          n_tokens: n,
          token: rows ? null : token.ptr,
          embd: rows ? embd.ptr : null,
          pos: pos.ptr,
          n_seq_id: nSeq.ptr,
          seq_id: seqPtrs.ptr,
          logits: logits.ptr,
        });
        assert.equal(status, 0);
        const vocab = model.vocabulary.vocabSize;
        const row = new Float32Array(api.view(api.llama_get_logits(ctx) as Pointer, 4 * vocab));
        let best = 0;
        for (let k = 1; k < vocab; k++) if (row[k] > row[best]) best = k;
        return best;
      };
      try {
        const tokenized = await encoder.tokenize(prompt, images);
        let next = 0;
        let last = -1;
        for (const chunk of tokenized.chunks) {
          if (chunk.kind === 'text') {
            if (chunk.tokens.length === 0) continue;
            new Int32Array(token.buffer).set(chunk.tokens);
            for (let i = 0; i < chunk.tokens.length; i++) new Int32Array(pos.buffer)[i] = next + i;
            last = decode(chunk.tokens.length, false);
            next += chunk.tokens.length;
          } else {
            const encoded = await encoder.encode(tokenized, chunk.index, next);
            new Float32Array(embd.buffer).set(encoded.rows);
            new Int32Array(pos.buffer).set(encoded.positions);
            if (encoded.nonCausal) setCausalAttention(ctx, false);
            last = decode(encoded.tokens, true);
            if (encoded.nonCausal) setCausalAttention(ctx, true);
            next = encoded.next;
          }
        }
        tokenized.dispose();
        const generated: number[] = [];
        for (let i = 0; i < GENERATED && !model.vocabulary.isEndOfGeneration(last); i++) {
          generated.push(last);
          new Int32Array(token.buffer)[0] = last;
          new Int32Array(pos.buffer)[0] = next++;
          last = decode(1, false);
        }
        return model.vocabulary.decode(generated, false);
      } finally {
        api.llama_free(ctx);
      }
    }

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
