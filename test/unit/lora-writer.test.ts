// LoRA adapters and merged models written for stories260K: llama.cpp's adapter format, the merge
// arithmetic recomputed from the files' bytes, and llama.cpp loading the adapter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { DEFAULT_LORA_MAGNITUDE, DEFAULT_LORA_TARGETS, loraScale, writeLoraAdapter, type LoraSpec } from '../../src/bench/model/lora.js';
import { writeMergedModel } from '../helpers/merged-model.js';
import { GgmlType, GgufType, writeGguf } from '../../src/bench/model/gguf-writer.js';
import { requantizeGguf } from '../../src/bench/model/requantize.js';
import { LlamaModel } from '../../src/engine/llama/model.js';
import type { Pointer } from '../../src/engine/llama/binding.js';
import { STORIES } from '../helpers/models.js';

type Parsed = Awaited<ReturnType<typeof parse>>;

async function parse(path: string) {
  const parsed = await gguf(path, { typedMetadata: true, allowLocalFile: true });
  const file = readFileSync(path);
  const tensors = new Map(parsed.tensorInfos.map((info) => [info.name, info]));
  const bytes = (name: string): Buffer => {
    const info = tensors.get(name);
    assert.ok(info, `${path} has no tensor ${name}`);
    assert.equal(Number(info.dtype), GgmlType.F32, name);
    const start = Number(parsed.tensorDataOffset + info.offset);
    return file.subarray(start, start + 4 * info.shape.reduce((a, b) => a * Number(b), 1));
  };
  const floats = (name: string) => {
    const raw = bytes(name);
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  };
  return {
    metadata: parsed.typedMetadata as Record<string, { type: number; value: unknown }>,
    infos: parsed.tensorInfos,
    tensors,
    bytes,
    floats,
  };
}

const dims = (parsed: Parsed, name: string) => parsed.tensors.get(name)?.shape.map(Number);
const targetNames = (base: Parsed, suffixes = DEFAULT_LORA_TARGETS) =>
  base.infos.map((i) => i.name).filter((n) => suffixes.some((s) => new RegExp(`^blk\\.\\d+\\.${s}\\.weight$`).test(n)));

describe('LoRA adapter and merged-model writer', () => {
  const spec: LoraSpec = { rank: 4, alpha: 8, seed: 7 };
  let dir: string;
  let base: Parsed;
  let adapter: Parsed;
  let merged: Parsed;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgi-node-lora-'));
    await writeLoraAdapter(STORIES, join(dir, 'adapter.gguf'), spec);
    await writeMergedModel(STORIES, join(dir, 'merged.gguf'), spec);
    base = await parse(STORIES);
    adapter = await parse(join(dir, 'adapter.gguf'));
    merged = await parse(join(dir, 'merged.gguf'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes llama.cpp adapter metadata', () => {
    const { metadata } = adapter;
    assert.deepEqual(metadata['general.architecture'], { type: GgufType.STRING, value: 'llama' });
    assert.deepEqual(metadata['general.type'], { type: GgufType.STRING, value: 'adapter' });
    assert.deepEqual(metadata['adapter.type'], { type: GgufType.STRING, value: 'lora' });
    assert.deepEqual(metadata['adapter.lora.alpha'], { type: GgufType.FLOAT32, value: 8 });
  });

  it('writes lora_a [n_in, r] and lora_b [r, n_out] in F32 for every attention and FFN matrix', () => {
    const targets = targetNames(base);
    assert.equal(targets.length, 5 * 7);
    assert.deepEqual(
      adapter.infos.map((i) => i.name),
      targets.flatMap((n) => [`${n}.lora_a`, `${n}.lora_b`]),
    );
    for (const name of targets) {
      const [nIn, nOut] = dims(base, name)!;
      assert.deepEqual(dims(adapter, `${name}.lora_a`), [nIn, spec.rank], name);
      assert.deepEqual(dims(adapter, `${name}.lora_b`), [spec.rank, nOut], name);
      assert.ok(adapter.infos.every((i) => Number(i.dtype) === GgmlType.F32));
    }
    assert.deepEqual(dims(adapter, 'blk.0.ffn_down.weight.lora_a'), [172, 4]);
    assert.deepEqual(dims(adapter, 'blk.0.attn_k.weight.lora_b'), [4, 32]);
  });

  it('keeps the base metadata and tensor list in the merged model', () => {
    const strip = (m: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'version' && k !== 'tensor_count' && k !== 'kv_count'));
    assert.deepEqual(strip(merged.metadata), strip(base.metadata));
    assert.deepEqual(
      merged.infos.map((i) => [i.name, i.shape.map(Number), Number(i.dtype)]),
      base.infos.map((i) => [i.name, i.shape.map(Number), Number(i.dtype)]),
    );
    const targets = new Set(targetNames(base));
    for (const { name } of base.infos) {
      if (targets.has(name)) assert.ok(!merged.bytes(name).equals(base.bytes(name)), `${name} is adapted`);
      else assert.ok(merged.bytes(name).equals(base.bytes(name)), `${name} is copied`);
    }
  });

  it('merges W + (alpha / r)·B·A, as llama.cpp applies the adapter', () => {
    const s = loraScale(spec);
    assert.equal(s, 2);
    for (const name of ['blk.2.ffn_down.weight', 'blk.0.attn_k.weight', 'blk.4.attn_q.weight']) {
      const [nIn, nOut] = dims(base, name)!;
      const w = base.floats(name);
      const a = adapter.floats(`${name}.lora_a`);
      const b = adapter.floats(`${name}.lora_b`);
      const out = merged.floats(name);
      for (const [o, i] of [
        [0, 0],
        [nOut - 1, nIn - 1],
        [Math.floor(nOut / 3), Math.floor((2 * nIn) / 3)],
      ]) {
        let delta = 0;
        for (let k = 0; k < spec.rank; k++) delta += b[o * spec.rank + k] * a[k * nIn + i];
        assert.notEqual(delta, 0);
        const expected = Math.fround(w[o * nIn + i] + s * delta);
        assert.ok(
          Math.abs(out[o * nIn + i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
          `${name}[${o}][${i}]: ${out[o * nIn + i]} vs ${expected}`,
        );
      }
    }
  });

  it('sizes the delta by magnitude / sqrt(n_in), whatever the rank and alpha', async () => {
    for (const [rank, alpha] of [
      [4, 8],
      [16, 0],
    ]) {
      const path = join(dir, `adapter-${rank}-${alpha}.gguf`);
      await writeLoraAdapter(STORIES, path, { rank, alpha, seed: 3, targets: ['ffn_up'] });
      const parsed = await parse(path);
      const s = loraScale({ rank, alpha });
      let sum = 0;
      let count = 0;
      for (const name of targetNames(base, ['ffn_up'])) {
        const [nIn, nOut] = dims(base, name)!;
        const a = parsed.floats(`${name}.lora_a`);
        const b = parsed.floats(`${name}.lora_b`);
        for (let o = 0; o < nOut; o++) {
          for (let i = 0; i < nIn; i++) {
            let d = 0;
            for (let k = 0; k < rank; k++) d += b[o * rank + k] * a[k * nIn + i];
            sum += (s * d) ** 2;
            count++;
          }
        }
      }
      const expected = DEFAULT_LORA_MAGNITUDE / Math.sqrt(64);
      const rms = Math.sqrt(sum / count);
      assert.ok(Math.abs(rms / expected - 1) < 0.2, `rank ${rank} alpha ${alpha}: RMS ${rms}, expected about ${expected}`);
    }
  });

  it('is deterministic in the seed and adapts only the chosen targets', async () => {
    const again = join(dir, 'again.gguf');
    await writeLoraAdapter(STORIES, again, spec);
    assert.ok(readFileSync(again).equals(readFileSync(join(dir, 'adapter.gguf'))));
    const other = join(dir, 'other-seed.gguf');
    await writeLoraAdapter(STORIES, other, { ...spec, seed: 8 });
    assert.ok(!readFileSync(other).equals(readFileSync(join(dir, 'adapter.gguf'))));
    // A tensor's factors depend on the seed and its name only.
    const few = join(dir, 'few.gguf');
    await writeLoraAdapter(STORIES, few, { ...spec, targets: ['attn_v'] });
    const parsed = await parse(few);
    assert.deepEqual(
      parsed.infos.map((i) => i.name),
      targetNames(base, ['attn_v']).flatMap((n) => [`${n}.lora_a`, `${n}.lora_b`]),
    );
    assert.ok(parsed.bytes('blk.3.attn_v.weight.lora_b').equals(adapter.bytes('blk.3.attn_v.weight.lora_b')));
    await assert.rejects(writeLoraAdapter(STORIES, few, { ...spec, targets: ['attn_qkv'] }), /no tensor blk\.N\.<suffix>\.weight/);
    await assert.rejects(writeLoraAdapter(STORIES, few, { ...spec, rank: 0 }), /rank/);
  });

  it('with zeroB leaves every tensor of the merged model byte-identical to the base', async () => {
    const path = join(dir, 'merged-zero.gguf');
    await writeMergedModel(STORIES, path, { ...spec, zeroB: true });
    const zero = await parse(path);
    for (const { name } of base.infos) assert.ok(zero.bytes(name).equals(base.bytes(name)), name);
    const adapterPath = join(dir, 'adapter-zero.gguf');
    await writeLoraAdapter(STORIES, adapterPath, { ...spec, zeroB: true });
    const zeroAdapter = await parse(adapterPath);
    assert.ok(zeroAdapter.floats('blk.1.ffn_gate.weight.lora_b').every((v) => v === 0));
    assert.ok(zeroAdapter.bytes('blk.1.ffn_gate.weight.lora_a').equals(adapter.bytes('blk.1.ffn_gate.weight.lora_a')));
  });

  it('writes adapters for a quantized base from its shapes, and merges only into F32', async () => {
    const q8 = join(dir, 'stories-q8_0.gguf');
    await requantizeGguf(STORIES, q8, 'q8_0');
    const path = join(dir, 'adapter-q8.gguf');
    await writeLoraAdapter(q8, path, spec);
    assert.ok(readFileSync(path).equals(readFileSync(join(dir, 'adapter.gguf'))));
    await assert.rejects(writeMergedModel(q8, join(dir, 'merged-q8.gguf'), spec), /is Q8_0; merging a LoRA needs an F32 base model/);
  });

  // The binding is being extended with the adapter API; until it is, this part is skipped.
  const loraInit = (model: LlamaModel) =>
    (model.api as unknown as Record<string, unknown>).llama_adapter_lora_init as
      ((model: Pointer, path: string) => Pointer | null) | undefined;
  it('is accepted by llama.cpp, which rejects an untransposed lora_a', async (t) => {
    const model = LlamaModel.load(STORIES);
    const logs: string[] = [];
    model.api.setLogSink((_level, text) => logs.push(text));
    try {
      const init = loraInit(model);
      if (!init) return t.skip('llama_adapter_lora_init is not bound in src/engine/llama/binding.ts');
      assert.ok(init(model.handle, join(dir, 'adapter.gguf')), 'llama.cpp loads the adapter');
      assert.match(logs.join(''), /loaded 70 tensors from lora file/);
      const name = 'blk.0.attn_q.weight';
      const bad = join(dir, 'untransposed.gguf');
      const zeros = (n: number) => () => new Uint8Array(4 * n);
      writeGguf(
        bad,
        new Map([
          ['general.architecture', { type: GgufType.STRING, value: 'llama' }],
          ['general.type', { type: GgufType.STRING, value: 'adapter' }],
          ['adapter.type', { type: GgufType.STRING, value: 'lora' }],
          ['adapter.lora.alpha', { type: GgufType.FLOAT32, value: 8 }],
        ]),
        [
          { name: `${name}.lora_a`, dims: [64, 64], type: GgmlType.F32, byteSize: 4 * 64 * 64, data: zeros(64 * 64) },
          { name: `${name}.lora_b`, dims: [4, 64], type: GgmlType.F32, byteSize: 4 * 4 * 64, data: zeros(4 * 64) },
        ],
      );
      logs.length = 0;
      assert.equal(init(model.handle, bad), null);
      assert.match(logs.join(''), /lora_a tensor is not transposed/);
    } finally {
      model.api.setLogSink(() => {});
      // Adapters still loaded are freed with their model.
      model.free();
    }
  });
});
