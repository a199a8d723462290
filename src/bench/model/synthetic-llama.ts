// Benchmark models: Llama-architecture GGUFs of realistic shapes with random weights and a real
// vocabulary. The text they write is meaningless; the compute per token is real.
import { gguf } from '@huggingface/gguf';
import { SeededRandom } from '../../sampling/random.js';
import { fromTypedMetadata, GgmlType, GgufType, writeGguf, type GgufValue, type TensorSpec } from './gguf-writer.js';
import { QUANTIZATIONS, quantizedTensor, type Quantization } from './quantize.js';

export interface LlamaShape {
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  context: number;
}

export const SHAPES: Record<string, LlamaShape> = {
  'smollm2-135m': { embedding: 576, layers: 30, heads: 9, kvHeads: 3, feedForward: 1536, context: 8192 },
  'qwen2.5-0.5b': { embedding: 896, layers: 24, heads: 14, kvHeads: 2, feedForward: 4864, context: 32768 },
};

export type { Quantization };

export interface SyntheticModelOptions {
  shape: LlamaShape;
  shapeName: string;
  vocabPath: string;
  quantization: Quantization;
  outPath: string;
  seed?: number;
  /**
   * Tokens written in place of the vocabulary's `[PADn]` placeholders, in order (a model's own
   * markers, such as a tool-call tag): `control` ones are special tokens, the others plain added text.
   */
  addedTokens?: readonly { readonly text: string; readonly control: boolean }[];
  onProgress?: (done: number, total: number) => void;
}

export async function writeSyntheticLlama(
  options: SyntheticModelOptions,
): Promise<{ bytes: number; parameters: number; vocabSize: number }> {
  const { shape, quantization } = options;
  const vocab = await gguf(options.vocabPath, { typedMetadata: true, allowLocalFile: true });
  const tokenizer = Object.entries(vocab.typedMetadata).filter(([key]) => key.startsWith('tokenizer.'));
  const tokens = vocab.typedMetadata['tokenizer.ggml.tokens']?.value as unknown[] | undefined;
  if (!tokens) throw new Error(`${options.vocabPath} has no tokenizer.ggml.tokens`);
  const vocabSize = tokens.length;
  const headDim = shape.embedding / shape.heads;

  const metadata = new Map<string, GgufValue>([
    ['general.architecture', { type: GgufType.STRING, value: 'llama' }],
    ['general.name', { type: GgufType.STRING, value: `synthetic ${options.shapeName} ${quantization}` }],
    ['general.file_type', { type: GgufType.UINT32, value: QUANTIZATIONS[quantization].fileType }],
    ['llama.context_length', { type: GgufType.UINT32, value: shape.context }],
    ['llama.embedding_length', { type: GgufType.UINT32, value: shape.embedding }],
    ['llama.block_count', { type: GgufType.UINT32, value: shape.layers }],
    ['llama.feed_forward_length', { type: GgufType.UINT32, value: shape.feedForward }],
    ['llama.attention.head_count', { type: GgufType.UINT32, value: shape.heads }],
    ['llama.attention.head_count_kv', { type: GgufType.UINT32, value: shape.kvHeads }],
    ['llama.rope.dimension_count', { type: GgufType.UINT32, value: headDim }],
    ['llama.rope.freq_base', { type: GgufType.FLOAT32, value: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { type: GgufType.FLOAT32, value: 1e-5 }],
    ['llama.vocab_size', { type: GgufType.UINT32, value: vocabSize }],
  ]);
  for (const [key, entry] of tokenizer) metadata.set(key, fromTypedMetadata(entry));
  if (options.addedTokens?.length) {
    const texts = [...(tokens as string[])];
    const types = [...((vocab.typedMetadata['tokenizer.ggml.token_type']?.value as number[] | undefined) ?? texts.map(() => 1))];
    const free = texts.flatMap((text, id) => (/^\[PAD\d+\]$/.test(text) ? [id] : []));
    const known = new Set(texts);
    const added = options.addedTokens.filter((token) => !known.has(token.text));
    if (free.length < added.length) throw new Error(`${options.vocabPath} has ${free.length} placeholder tokens, ${added.length} needed`);
    added.forEach((token, i) => {
      texts[free[i]] = token.text;
      types[free[i]] = token.control ? 3 : 4;
    });
    metadata.set('tokenizer.ggml.tokens', { type: GgufType.ARRAY, subType: GgufType.STRING, value: texts });
    metadata.set('tokenizer.ggml.token_type', { type: GgufType.ARRAY, subType: GgufType.INT32, value: types });
  }

  const random = new SeededRandom(options.seed ?? 42);
  const weights = (rows: number, columns: number, std: number) => () => {
    const values = new Float32Array(rows * columns);
    const scale = std * Math.sqrt(3) * 2;
    for (let i = 0; i < values.length; i++) values[i] = (random.nextUint32() / 4294967296 - 0.5) * scale;
    return values;
  };
  const ones = (n: number) => () => new Uint8Array(new Float32Array(n).fill(1).buffer);
  const matrix = (name: string, columns: number, rows: number, std = 0.02): TensorSpec =>
    quantizedTensor(name, [columns, rows], quantization, weights(rows, columns, std));
  const norm = (name: string, n: number): TensorSpec => ({ name, dims: [n], type: GgmlType.F32, byteSize: 4 * n, data: ones(n) });

  const e = shape.embedding;
  const kv = shape.kvHeads * headDim;
  const tensors: TensorSpec[] = [matrix('token_embd.weight', e, vocabSize, 0.05), norm('output_norm.weight', e)];
  for (let i = 0; i < shape.layers; i++) {
    tensors.push(
      norm(`blk.${i}.attn_norm.weight`, e),
      matrix(`blk.${i}.attn_q.weight`, e, e),
      matrix(`blk.${i}.attn_k.weight`, e, kv),
      matrix(`blk.${i}.attn_v.weight`, e, kv),
      matrix(`blk.${i}.attn_output.weight`, e, e),
      norm(`blk.${i}.ffn_norm.weight`, e),
      matrix(`blk.${i}.ffn_gate.weight`, e, shape.feedForward),
      matrix(`blk.${i}.ffn_up.weight`, e, shape.feedForward),
      matrix(`blk.${i}.ffn_down.weight`, shape.feedForward, e),
    );
  }
  const parameters = tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  const bytes = writeGguf(options.outPath, metadata, tensors, (index) => options.onProgress?.(index + 1, tensors.length));
  return { bytes, parameters, vocabSize };
}
