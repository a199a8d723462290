// Benchmark models made by our own GGUF writer and quantizers load and run in the real engine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED, postJson, startServer, type RunningServer } from './helpers/server.js';
import { writeSyntheticLlama } from '../src/bench/model/synthetic-llama.js';

const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const thpAvailable = process.platform === 'linux' && existsSync(THP) && !readFileSync(THP, 'utf8').includes('[never]');
const MiB = 1024 * 1024;

// Big enough (about 14 MB in Q8_0, 8 MB in Q4_0) for its weight buffers to span whole 2 MiB pages.
const TINY = { embedding: 256, layers: 2, heads: 4, kvHeads: 2, feedForward: 512, context: 256 };

for (const quantization of ['q8_0', 'q4_0'] as const) {
  describe(`synthetic Llama GGUF, ${quantization}`, () => {
    let server: RunningServer;
    let parameters = 0;
    let modelPath = '';
    before(async () => {
      const path = (modelPath = join(mkdtempSync(join(tmpdir(), 'tgi-node-bench-')), `tiny-${quantization}.gguf`));
      const result = await writeSyntheticLlama({ shape: TINY, shapeName: 'tiny', vocabPath: join(SHARED, 'models', 'vocab', 'ggml-vocab-gpt-2.gguf'), quantization, outPath: path });
      parameters = result.parameters;
      assert.equal(result.vocabSize, 50257);
      server = await startServer(['--max-total-tokens', '128', '--max-batch-size', '2'], {}, path);
    });
    after(() => server?.stop());

    it('loads with the real GPT-2 vocabulary and generates the requested tokens', async () => {
      const tokens = await postJson(`${server.url}/tokenize`, { inputs: 'Hello world' });
      assert.deepEqual(tokens.json.map((t: { id: number }) => t.id), [15496, 995]);
      const r = await postJson(`${server.url}/generate`, { inputs: 'Hello world', parameters: { max_new_tokens: 12, details: true } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.details.generated_tokens, 12);
      for (const t of r.json.details.tokens) assert.ok(Number.isFinite(t.logprob));
      const summary = server.logs.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((x) => x.url);
      assert.equal(summary.parameters, parameters);
      assert.equal(summary.architecture, 'llama');
    });

    it('reads the weights into transparent huge pages where the system has them', async () => {
      const summary = server.logs.map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((x) => x.url);
      if (!thpAvailable) {
        assert.equal(summary.weightsInHugePages, 0);
        return;
      }
      assert.ok(summary.weightsInHugePages >= 2 * MiB, `weightsInHugePages ${summary.weightsInHugePages}`);
      // The weight buffers (llama.cpp may keep a second copy of tied embeddings), not the KV cache.
      assert.ok(summary.weightsInHugePages <= 2 * statSync(modelPath).size, `weightsInHugePages ${summary.weightsInHugePages}`);
      const smaps = readFileSync(`/proc/${server.process.pid}/smaps_rollup`, 'utf8');
      assert.ok(Number(/AnonHugePages:\s+(\d+)/.exec(smaps)?.[1]) * 1024 >= 2 * MiB, smaps);
    });
  });
}
