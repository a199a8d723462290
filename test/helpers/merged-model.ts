// The "merged" model of a LoRA adapter: the base with the adapter's delta added into its weights, a
// normal model GGUF. The same spec gives the same factors as writeLoraAdapter's, so serving the base
// with the adapter and serving the merged model should write the same text.
import { readFileSync } from 'node:fs';
import { fromTypedMetadata, GgmlType, writeGguf, type GgufValue, type TensorSpec } from '../../src/bench/model/gguf-writer.js';
import {
  bytesOf,
  findTargets,
  loraFactors,
  loraScale,
  readBase,
  validateLoraSpec,
  type LoraSpec,
  type Target,
} from '../../src/bench/model/lora.js';

/** W'[o][i] = W[o][i] + s·Σ_k B[o][k]·A[k][i], in float64, stored as float32. Needs an F32 base. */
export async function writeMergedModel(basePath: string, outPath: string, spec: LoraSpec): Promise<void> {
  validateLoraSpec(spec);
  const base = await readBase(basePath);
  for (const tensor of base.tensors) {
    if (tensor.dtype !== GgmlType.F32)
      throw new Error(
        `${basePath}: ${tensor.name} is ${GgmlType[tensor.dtype] ?? `ggml type ${tensor.dtype}`}; merging a LoRA needs an F32 base model`,
      );
  }
  const file = readFileSync(basePath);
  const metadata = new Map<string, GgufValue>();
  for (const [key, entry] of Object.entries(base.metadata)) {
    if (key === 'version' || key === 'tensor_count' || key === 'kv_count') continue;
    metadata.set(key, fromTypedMetadata(entry));
  }
  const targets = new Map(findTargets(basePath, base.tensors, spec).map((target) => [target.tensor.name, target]));
  const tensors: TensorSpec[] = base.tensors.map((tensor) => {
    const count = tensor.dims.reduce((x, y) => x * y, 1);
    const raw = file.subarray(tensor.start, tensor.start + 4 * count);
    const target = targets.get(tensor.name);
    const data = target ? () => bytesOf(mergeDelta(raw, target, spec)) : () => new Uint8Array(raw);
    return { name: tensor.name, dims: tensor.dims, type: GgmlType.F32, byteSize: raw.byteLength, data };
  });
  writeGguf(outPath, metadata, tensors);
}

function mergeDelta(raw: Uint8Array, target: Target, spec: LoraSpec): Float32Array {
  const { nIn, nOut } = target;
  const { rank } = spec;
  const s = loraScale(spec);
  const { a, b } = loraFactors(target, spec);
  const weights = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const delta = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    delta.fill(0);
    for (let k = 0; k < rank; k++) {
      const bok = b[o * rank + k];
      if (bok === 0) continue;
      for (let i = 0, ak = k * nIn; i < nIn; i++) delta[i] += bok * a[ak + i];
    }
    // A zero delta leaves the weight's bits alone (-0 + 0 would make it +0).
    for (let i = 0; i < nIn; i++) if (delta[i] !== 0) weights[o * nIn + i] += s * delta[i];
  }
  return weights;
}
