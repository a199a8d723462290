// Random LoRA adapters for a base model, in llama.cpp's GGUF adapter format. A spec gives each
// adapted tensor the same factors every time (loraFactors), so that the tests can also merge them
// into the base's weights and check that the served adapter writes what the merged model does.
//
// Format (llama.cpp src/llama-adapter.cpp, llama_adapter_lora_init_impl): metadata general.type =
// "adapter", general.architecture = the base's, adapter.type = "lora", adapter.lora.alpha (float32);
// for each adapted base tensor X.weight of dims [n_in, n_out], X.weight.lora_a of dims [n_in, r]
// and X.weight.lora_b of dims [r, n_out]. llama.cpp computes y = W·x + s·B·(A·x) with
// s = alpha ? scale·alpha/r : scale (r read from lora_b's dims[0]; scale 1 here).
import { gguf } from '@huggingface/gguf';
import { SeededRandom } from '../../sampling/random.js';
import { GgmlType, GgufType, writeGguf, type GgufValue, type TensorSpec } from './gguf-writer.js';

export interface LoraSpec {
  /** r, the inner dimension of B·A. */
  rank: number;
  /** adapter.lora.alpha: llama.cpp scales the delta by alpha / rank (by 1 when alpha is 0). */
  alpha: number;
  /** The factors are a function of the seed and the tensor's name only. */
  seed: number;
  /**
   * How large the delta is against the layer itself: the expected RMS of an element of s·B·A is
   * magnitude / sqrt(n_in), where a weight of RMS 1 / sqrt(n_in) keeps its input's scale. A's
   * elements have standard deviation 1 / sqrt(n_in), B's magnitude / (|s|·sqrt(r)), both uniform.
   */
  magnitude?: number;
  /** B = 0: a well-formed adapter that changes nothing. */
  zeroB?: boolean;
  /** Adapted tensors `blk.N.<suffix>.weight`, by suffix. */
  targets?: readonly string[];
}

export const DEFAULT_LORA_TARGETS: readonly string[] = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/**
 * On stories260K (n_in 64: delta RMS 0.0125, 5-27% of its matrices' RMS) the greedy continuation of
 * "Once upon a time" changes after "She loved to play" for most seeds (5 of seeds 1-6) and stays
 * English; 0.2 already writes broken words, 0.3 and more garbage.
 */
export const DEFAULT_LORA_MAGNITUDE = 0.1;

/** The factor llama.cpp applies to B·A at a runtime adapter scale of 1. */
export function loraScale(spec: Pick<LoraSpec, 'rank' | 'alpha'>): number {
  return spec.alpha ? spec.alpha / spec.rank : 1;
}

interface BaseTensor {
  name: string;
  dims: number[];
  dtype: number;
  /** Byte offset of the data in the file. */
  start: number;
}

export interface Target {
  tensor: BaseTensor;
  nIn: number;
  nOut: number;
}

/** The base model's metadata and tensors (names, dims, types, where their data starts). */
export async function readBase(basePath: string) {
  const parsed = await gguf(basePath, { typedMetadata: true, allowLocalFile: true });
  const tensors: BaseTensor[] = parsed.tensorInfos.map((info) => ({
    name: info.name,
    dims: info.shape.map(Number),
    dtype: Number(info.dtype),
    start: Number(parsed.tensorDataOffset + info.offset),
  }));
  return { metadata: parsed.typedMetadata as Record<string, unknown>, tensors };
}

export function validateLoraSpec(spec: LoraSpec): void {
  if (!Number.isInteger(spec.rank) || spec.rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${spec.rank}`);
  if (!Number.isFinite(spec.alpha)) throw new Error(`LoRA alpha must be finite, got ${spec.alpha}`);
  if (!Number.isSafeInteger(spec.seed)) throw new Error(`LoRA seed must be an integer, got ${spec.seed}`);
  const magnitude = spec.magnitude ?? DEFAULT_LORA_MAGNITUDE;
  if (!(magnitude >= 0) || !Number.isFinite(magnitude)) throw new Error(`LoRA magnitude must be finite and >= 0, got ${magnitude}`);
}

/** The base's tensors the spec adapts. */
export function findTargets(basePath: string, tensors: BaseTensor[], spec: LoraSpec): Target[] {
  const suffixes = new Set(spec.targets ?? DEFAULT_LORA_TARGETS);
  const targets: Target[] = [];
  for (const tensor of tensors) {
    const match = /^blk\.\d+\.(.+)\.weight$/.exec(tensor.name);
    if (!match || !suffixes.has(match[1])) continue;
    if (tensor.dims.length !== 2)
      throw new Error(`${basePath}: ${tensor.name} has dims [${tensor.dims.join(', ')}]; a LoRA target must be a matrix`);
    targets.push({ tensor, nIn: tensor.dims[0], nOut: tensor.dims[1] });
  }
  if (targets.length === 0) throw new Error(`${basePath}: no tensor blk.N.<suffix>.weight with a suffix in ${[...suffixes].join(', ')}`);
  return targets;
}

/** FNV-1a of the name, so that each tensor's factors do not depend on which others are adapted. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/**
 * A as r rows of n_in (A[k][i] at k·n_in + i) and B as n_out rows of r (B[o][k] at o·r + k): the
 * row-major layouts of lora_a [n_in, r] and lora_b [r, n_out].
 */
export function loraFactors(target: Target, spec: LoraSpec): { a: Float32Array; b: Float32Array } {
  const { rank } = spec;
  const random = new SeededRandom((BigInt(spec.seed) << 32n) ^ BigInt(nameHash(target.tensor.name)));
  const uniform = (halfWidth: number) => (2 * random.nextFloat() - 1) * halfWidth;
  // U(-h, h) has standard deviation h / sqrt(3).
  const aHalf = Math.sqrt(3 / target.nIn);
  const bHalf = (Math.sqrt(3) * (spec.magnitude ?? DEFAULT_LORA_MAGNITUDE)) / (Math.abs(loraScale(spec)) * Math.sqrt(rank));
  const a = new Float32Array(rank * target.nIn);
  for (let j = 0; j < a.length; j++) a[j] = uniform(aHalf);
  const b = new Float32Array(target.nOut * rank);
  if (!spec.zeroB) for (let j = 0; j < b.length; j++) b[j] = uniform(bHalf);
  return { a, b };
}

export const bytesOf = (values: Float32Array) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** Needs only the base's header (tensor names and dims), so any tensor type will do. */
export async function writeLoraAdapter(basePath: string, outPath: string, spec: LoraSpec): Promise<void> {
  validateLoraSpec(spec);
  const base = await readBase(basePath);
  const architecture = (base.metadata['general.architecture'] as { value?: unknown } | undefined)?.value;
  if (typeof architecture !== 'string') throw new Error(`${basePath} has no general.architecture`);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: GgufType.STRING, value: architecture }],
    ['general.type', { type: GgufType.STRING, value: 'adapter' }],
    ['adapter.type', { type: GgufType.STRING, value: 'lora' }],
    ['adapter.lora.alpha', { type: GgufType.FLOAT32, value: spec.alpha }],
  ]);
  const tensors: TensorSpec[] = [];
  for (const target of findTargets(basePath, base.tensors, spec)) {
    // Each data callback draws the pair again (cheap next to writing it) rather than keep it.
    tensors.push(
      {
        name: `${target.tensor.name}.lora_a`,
        dims: [target.nIn, spec.rank],
        type: GgmlType.F32,
        byteSize: 4 * spec.rank * target.nIn,
        data: () => bytesOf(loraFactors(target, spec).a),
      },
      {
        name: `${target.tensor.name}.lora_b`,
        dims: [spec.rank, target.nOut],
        type: GgmlType.F32,
        byteSize: 4 * target.nOut * spec.rank,
        data: () => bytesOf(loraFactors(target, spec).b),
      },
    );
  }
  writeGguf(outPath, metadata, tensors);
}
