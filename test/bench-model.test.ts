// Benchmark models made by our own GGUF writer and quantizers load and run in the real engine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED } from './helpers/models.js';
import { type RunningServer, startServer } from './helpers/server.js';
import { postJson } from './helpers/http.js';
import { MiB, anonHugePagesBytes, transparentHugePagesAvailable } from './helpers/huge-pages.js';
import { writeSyntheticLlama } from '../src/bench/model/synthetic-llama.js';

// Big enough (about 14 MB in Q8_0, 8 MB in Q4_0) for its weight buffers to span whole 2 MiB pages.
const TINY = { embedding: 256, layers: 2, heads: 4, kvHeads: 2, feedForward: 512, context: 256 };

for (const quantization of ['q8_0', 'q4_0'] as const) {
  describe(`synthetic Llama GGUF, ${quantization}`, () => {
    let server: RunningServer;
    let parameters = 0;
    let modelPath = '';
    before(async () => {
      const path = (modelPath = join(mkdtempSync(join(tmpdir(), 'tgi-node-bench-')), `tiny-${quantization}.gguf`));
      const result = await writeSyntheticLlama({
        shape: TINY,
        shapeName: 'tiny',
        vocabPath: join(SHARED, 'models', 'vocab', 'ggml-vocab-gpt-2.gguf'),
        quantization,
        outPath: path,
      });
      parameters = result.parameters;
      assert.equal(result.vocabSize, 50257);
      server = await startServer(['--max-total-tokens', '128', '--max-batch-size', '2'], {}, path);
    });
    after(() => server?.stop());

    it('loads with the real GPT-2 vocabulary and generates the requested tokens', async () => {
      const tokens = await postJson(`${server.url}/tokenize`, { inputs: 'Hello world' });
      assert.deepEqual(
        tokens.json.map((t: { id: number }) => t.id),
        [15496, 995],
      );
      const r = await postJson(`${server.url}/generate`, { inputs: 'Hello world', parameters: { max_new_tokens: 12, details: true } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.details.generated_tokens, 12);
      for (const t of r.json.details.tokens) assert.ok(Number.isFinite(t.logprob));
      assert.equal(server.summary.parameters, parameters);
      assert.equal(server.summary.architecture, 'llama');
    });

    it('reads the weights into transparent huge pages where the system has them', async () => {
      const advised = server.summary.weightsInHugePages;
      if (!transparentHugePagesAvailable) {
        assert.equal(advised, 0);
        return;
      }
      assert.ok(advised >= 2 * MiB, `weightsInHugePages ${advised}`);
      // The weight buffers (llama.cpp may keep a second copy of tied embeddings), not the KV cache.
      assert.ok(advised <= 2 * statSync(modelPath).size, `weightsInHugePages ${advised}`);
      const backed = anonHugePagesBytes(server.process.pid!);
      assert.ok(backed >= 2 * MiB, `AnonHugePages ${backed} bytes`);
    });
  });
}
