// Random-weight vision projectors ("mmproj" GGUFs, llama.cpp's clip format) for tests and
// benchmarks, and the text models to pair them with. Four families, each asking something
// different of a server: LLaVA's `mlp` (plain image rows), SmolVLM's `idefics3` (marker tokens and
// image slices), Gemma 3's `gemma3` (pooled rows decoded with non-causal attention) and
// Qwen2.5-VL's `qwen2.5vl_merger` (merged patches at M-RoPE positions).
import { readFileSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';
import { SeededRandom } from '../../sampling/random.js';
import { fromTypedMetadata, GgmlType, GgufType, writeGguf, type GgufValue, type TensorSpec } from './gguf-writer.js';
import { QK, quantizedTensor, toFloat16Bits } from './quantize.js';

export type ProjectorFamily = 'mlp' | 'idefics3' | 'gemma3' | 'qwen2.5vl';

export const PROJECTOR_FAMILIES: readonly ProjectorFamily[] = ['mlp', 'idefics3', 'gemma3', 'qwen2.5vl'];

/** The vision tower's shape. */
export interface VisionShape {
  /** Side of the square image the encoder takes (a tile, for idefics3), in pixels. */
  imageSize: number;
  patchSize: number;
  /** The ViT's width. */
  width: number;
  blocks: number;
  heads: number;
  feedForward: number;
}

export interface ProjectorOptions {
  family: ProjectorFamily;
  outPath: string;
  /** Width of the rows the projector writes: the text model's embedding width. */
  outputWidth: number;
  /** Defaults: the family's small test shape (`SMALL_VISION`). */
  shape?: Partial<VisionShape>;
  seed?: number;
  /**
   * Half-range of the uniform random weights. Large enough that the rows an image becomes move
   * the text model's greedy choice; 0.3 by default.
   */
  scale?: number;
  /**
   * Type of the weight matrices (norms, biases and embeddings stay F32); released projectors are
   * mostly F16. Q8_0 applies to matrices whose rows are a multiple of 32 values, the others F16.
   */
  matrixType?: 'f32' | 'f16' | 'q8_0';
}

/** Small test shapes: an image is a handful of tokens, and encoding takes milliseconds. */
export const SMALL_VISION: Record<ProjectorFamily, VisionShape> = {
  // 56 / 14 = 4 patches a side: 16 tokens.
  mlp: { imageSize: 56, patchSize: 14, width: 32, blocks: 1, heads: 2, feedForward: 48 },
  // A 56-pixel tile is 4 x 4 patches, 2 x 2 after the pixel shuffle: 4 tokens a tile.
  idefics3: { imageSize: 56, patchSize: 14, width: 32, blocks: 1, heads: 2, feedForward: 48 },
  // 224 / 14 = 16 patches a side, average-pooled by 4: 16 tokens.
  gemma3: { imageSize: 224, patchSize: 14, width: 32, blocks: 1, heads: 2, feedForward: 48 },
  // Images keep their size (multiples of 28): each 2 x 2 block of patches is one token.
  'qwen2.5vl': { imageSize: 112, patchSize: 14, width: 64, blocks: 2, heads: 4, feedForward: 96 },
};

/** The `clip.projector_type` value of each family. */
const PROJECTOR_TYPE: Record<ProjectorFamily, string> = {
  mlp: 'mlp',
  idefics3: 'idefics3',
  gemma3: 'gemma3',
  'qwen2.5vl': 'qwen2.5vl_merger',
};

/** idefics3's pixel shuffle: each side shrinks by this factor, the width grows by its square. */
export const IDEFICS3_SCALE_FACTOR = 2;
/** idefics3 resizes an image so that its longer side is this many tiles before slicing it. */
const IDEFICS3_LONGEST_EDGE_TILES = 2;
/** Qwen2.5-VL: a full-attention block every this many, window attention in the others. */
const QWEN_WINDOW_PATTERN = 2;

const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
const f32 = (value: number): GgufValue => ({ type: GgufType.FLOAT32, value });
const bool = (value: boolean): GgufValue => ({ type: GgufType.BOOL, value });
const str = (value: string): GgufValue => ({ type: GgufType.STRING, value });
const f32s = (value: number[]): GgufValue => ({ type: GgufType.ARRAY, subType: GgufType.FLOAT32, value });

/** Writes a random-weight projector; returns its size in bytes and its tensor count. */
export function writeProjector(options: ProjectorOptions): { bytes: number; tensors: number } {
  const { family, outputWidth } = options;
  const shape = { ...SMALL_VISION[family], ...options.shape };
  const { imageSize, patchSize: p, width: e, blocks, heads, feedForward: ff } = shape;
  if (imageSize % p !== 0) throw new Error(`image size ${imageSize} is not a multiple of the patch size ${p}`);
  if (e % heads !== 0) throw new Error(`width ${e} is not a multiple of the head count ${heads}`);
  // clip swaps the feed-forward matrices of files whose down projection is [width, ...].
  if (ff === e) throw new Error('the feed-forward width must differ from the ViT width');
  const side = imageSize / p;
  if (family === 'gemma3' && side % 4 !== 0) throw new Error(`gemma3 pools patches by 4: ${side} patches a side`);
  if (family === 'idefics3' && side % IDEFICS3_SCALE_FACTOR !== 0)
    throw new Error(`idefics3 merges patches by ${IDEFICS3_SCALE_FACTOR}: ${side} patches a side`);
  if (family === 'qwen2.5vl' && side % 2 !== 0) throw new Error(`qwen2.5vl merges 2 x 2 patches: ${side} patches a side`);
  const qwen = family === 'qwen2.5vl';

  const metadata = new Map<string, GgufValue>([
    ['general.architecture', str('clip')],
    ['general.name', str(`random ${family} projector`)],
    ['general.file_type', u32({ f32: 0, f16: 1, q8_0: 7 }[options.matrixType ?? 'f32'])],
    ['clip.projector_type', str(PROJECTOR_TYPE[family])],
    ['clip.has_vision_encoder', bool(true)],
    ['clip.has_text_encoder', bool(false)],
    [qwen ? 'clip.use_silu' : 'clip.use_gelu', bool(true)],
    ['clip.vision.image_size', u32(imageSize)],
    ['clip.vision.patch_size', u32(p)],
    ['clip.vision.embedding_length', u32(e)],
    ['clip.vision.feed_forward_length', u32(ff)],
    ['clip.vision.block_count', u32(blocks)],
    ['clip.vision.projection_dim', u32(outputWidth)],
    ['clip.vision.attention.head_count', u32(heads)],
    ['clip.vision.attention.layer_norm_epsilon', f32(1e-6)],
    ['clip.vision.image_mean', f32s([0.5, 0.5, 0.5])],
    ['clip.vision.image_std', f32s([0.5, 0.5, 0.5])],
  ]);
  if (family === 'idefics3') {
    metadata.set('clip.vision.projector.scale_factor', u32(IDEFICS3_SCALE_FACTOR));
    metadata.set('clip.vision.preproc_image_size', u32(imageSize * IDEFICS3_LONGEST_EDGE_TILES));
  }
  if (qwen) {
    metadata.set('clip.vision.n_wa_pattern', u32(QWEN_WINDOW_PATTERN));
    metadata.set('clip.vision.spatial_merge_size', u32(2));
  }

  const random = new SeededRandom(options.seed ?? 7);
  const scale = options.scale ?? 0.3;
  const uniform = (n: number) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (random.nextUint32() / 4294967296 - 0.5) * 2 * scale;
    return values;
  };
  const tensors: TensorSpec[] = [];
  const half = options.matrixType === 'f16' || options.matrixType === 'q8_0';
  const q8 = options.matrixType === 'q8_0';
  const tensor = (name: string, dims: number[], fill: 'random' | 'ones' | 'zeros' = 'random') => {
    const count = dims.reduce((a, b) => a * b, 1);
    // Drawn now, in file order, so that a seed gives the same weights whatever reads them first.
    const values = fill === 'random' ? uniform(count) : new Float32Array(count).fill(fill === 'ones' ? 1 : 0);
    if (q8 && dims.length === 2 && dims[0] % QK === 0 && !name.startsWith('v.position_embd')) {
      tensors.push(quantizedTensor(name, dims, 'q8_0', () => values));
    } else if (half && dims.length >= 2 && !name.startsWith('v.position_embd')) {
      const bits = Uint16Array.from(values, toFloat16Bits);
      tensors.push({ name, dims, type: GgmlType.F16, byteSize: 2 * count, data: () => new Uint8Array(bits.buffer) });
    } else tensors.push({ name, dims, type: GgmlType.F32, byteSize: 4 * count, data: () => new Uint8Array(values.buffer) });
  };
  // Norms start at the identity (weight 1, bias 0), as trained ones roughly are.
  const norm = (prefix: string, withBias: boolean) => {
    tensor(`${prefix}.weight`, [e], 'ones');
    if (withBias) tensor(`${prefix}.bias`, [e], 'zeros');
  };

  tensor('v.patch_embd.weight', [p, p, 3, e]);
  if (qwen) tensor('v.patch_embd.weight.1', [p, p, 3, e]);
  else {
    tensor('v.patch_embd.bias', [e]);
    tensor('v.position_embd.weight', [e, side * side]);
  }
  if (family === 'mlp') norm('v.pre_ln', true);
  for (let b = 0; b < blocks; b++) {
    const blk = `v.blk.${b}`;
    for (const name of ['attn_q', 'attn_k', 'attn_v', 'attn_out']) {
      tensor(`${blk}.${name}.weight`, [e, e]);
      tensor(`${blk}.${name}.bias`, [e]);
    }
    norm(`${blk}.ln1`, !qwen);
    norm(`${blk}.ln2`, !qwen);
    tensor(`${blk}.ffn_up.weight`, [e, ff]);
    tensor(`${blk}.ffn_up.bias`, [ff]);
    if (qwen) {
      tensor(`${blk}.ffn_gate.weight`, [e, ff]);
      tensor(`${blk}.ffn_gate.bias`, [ff]);
    }
    tensor(`${blk}.ffn_down.weight`, [ff, e]);
    tensor(`${blk}.ffn_down.bias`, [e]);
  }
  if (family !== 'mlp') norm('v.post_ln', !qwen);

  switch (family) {
    case 'mlp':
      tensor('mm.0.weight', [e, outputWidth]);
      tensor('mm.0.bias', [outputWidth]);
      tensor('mm.2.weight', [outputWidth, outputWidth]);
      tensor('mm.2.bias', [outputWidth]);
      break;
    case 'idefics3':
      tensor('mm.model.fc.weight', [e * IDEFICS3_SCALE_FACTOR * IDEFICS3_SCALE_FACTOR, outputWidth]);
      break;
    case 'gemma3':
      // Used transposed: [text width, ViT width].
      tensor('mm.input_projection.weight', [outputWidth, e]);
      tensor('mm.soft_emb_norm.weight', [e], 'ones');
      break;
    case 'qwen2.5vl':
      tensor('mm.0.weight', [4 * e, 4 * e]);
      tensor('mm.0.bias', [4 * e]);
      tensor('mm.2.weight', [4 * e, outputWidth]);
      tensor('mm.2.bias', [outputWidth]);
      break;
  }
  return { bytes: writeGguf(options.outPath, metadata, tensors), tensors: tensors.length };
}

/** The marker tokens each family's projector wraps an image in (llama.cpp's mtmd adds them). */
const IMAGE_MARKER_TOKENS: Record<ProjectorFamily, readonly string[]> = {
  mlp: [],
  idefics3: ['<fake_token_around_image>', '<global-img>', ...[1, 2, 3].flatMap((row) => [1, 2, 3].map((col) => `<row_${row}_col_${col}>`))],
  gemma3: ['<start_of_image>', '<end_of_image>'],
  'qwen2.5vl': ['<|vision_start|>', '<|vision_end|>'],
};

/**
 * A text model to pair with a family's projector, made from a small Llama GGUF with F32 weights
 * (stories260K): the family's image marker tokens take the places of the vocabulary's last
 * multi-letter pieces (idefics3 also needs a "\n\n" piece), and for qwen2.5vl the model becomes
 * a `qwen2vl` one (zero attention biases, M-RoPE sections) so that image rows take M-RoPE
 * positions. The weights are otherwise the source's.
 */
export async function writeVisionTextModel(sourcePath: string, outPath: string, family: ProjectorFamily): Promise<void> {
  const parsed = await gguf(sourcePath, { typedMetadata: true, allowLocalFile: true });
  const file = readFileSync(sourcePath);
  const source = parsed.typedMetadata as Record<string, { type: number; value: unknown; subType?: number } | undefined>;
  const metadata = new Map<string, GgufValue>();
  for (const [key, entry] of Object.entries(source)) {
    if (key === 'version' || key === 'tensor_count' || key === 'kv_count' || !entry) continue;
    metadata.set(key, fromTypedMetadata(entry));
  }
  const arch = String(source['general.architecture']?.value);

  const added = [...IMAGE_MARKER_TOKENS[family].map((text) => ({ text, control: true }))];
  if (family === 'idefics3') added.push({ text: '\n\n', control: false });
  if (added.length) {
    const texts = [...(source['tokenizer.ggml.tokens']?.value as string[])];
    const types = [...((source['tokenizer.ggml.token_type']?.value as number[] | undefined) ?? texts.map(() => 1))];
    const free: number[] = [];
    for (let id = texts.length - 1; id >= 0 && free.length < added.length; id--) if (/^[a-z]{3,}$/.test(texts[id])) free.push(id);
    if (free.length < added.length) throw new Error(`${sourcePath}: not enough plain pieces to replace`);
    added.forEach((token, i) => {
      texts[free[i]] = token.text;
      types[free[i]] = token.control ? 3 : 4;
    });
    metadata.set('tokenizer.ggml.tokens', { type: GgufType.ARRAY, subType: GgufType.STRING, value: texts });
    metadata.set('tokenizer.ggml.token_type', { type: GgufType.ARRAY, subType: GgufType.INT32, value: types });
    // Scores must stay one per token; the replaced pieces keep theirs.
  }

  const tensors: TensorSpec[] = parsed.tensorInfos.map((info) => {
    const dims = info.shape.map(Number);
    if (Number(info.dtype) !== GgmlType.F32) throw new Error(`${info.name}: only F32 inputs are supported`);
    const start = Number(parsed.tensorDataOffset + info.offset);
    const raw = file.subarray(start, start + 4 * dims.reduce((a, b) => a * b, 1));
    return { name: info.name, dims, type: GgmlType.F32, byteSize: raw.byteLength, data: () => new Uint8Array(raw) };
  });

  if (family === 'qwen2.5vl') {
    const renamed = new Map<string, GgufValue>();
    for (const [key, value] of metadata) renamed.set(key.startsWith(`${arch}.`) ? `qwen2vl.${key.slice(arch.length + 1)}` : key, value);
    renamed.set('general.architecture', str('qwen2vl'));
    const headDim = Number(source[`${arch}.rope.dimension_count`]?.value);
    // Half the rotary pairs to time, a quarter each to height and width, as Qwen2-VL's 16/24/24 of 64.
    const pairs = headDim / 2;
    const sections = [pairs - 2 * Math.floor(pairs / 4), Math.floor(pairs / 4), Math.floor(pairs / 4), 0];
    renamed.set('qwen2vl.rope.dimension_sections', { type: GgufType.ARRAY, subType: GgufType.INT32, value: sections });
    metadata.clear();
    for (const [key, value] of renamed) metadata.set(key, value);
    const zeros = (name: string, n: number): TensorSpec => ({
      name,
      dims: [n],
      type: GgmlType.F32,
      byteSize: 4 * n,
      data: () => new Uint8Array(4 * n),
    });
    for (const info of parsed.tensorInfos) {
      const match = /^(blk\.\d+)\.attn_([qkv])\.weight$/.exec(info.name);
      if (match) tensors.push(zeros(`${match[1]}.attn_${match[2]}.bias`, Number(info.shape[1])));
    }
  }
  writeGguf(outPath, metadata, tensors);
}
