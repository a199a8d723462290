// Re-quantizes a float GGUF (F32 weights) to Q8_0 or Q4_0 with our own quantizers: every 2-D
// weight whose rows are a multiple of the block size; norms and odd-sized tensors stay as they are.
import { readFileSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';
import { fromTypedMetadata, GgmlType, GgufType, writeGguf, type GgufValue, type TensorSpec } from './gguf-writer.js';
import { QK, QUANTIZATIONS, quantizedTensor, type Quantization } from './quantize.js';

/** `quantization` null keeps every tensor as it is (a copy with `extraMetadata` set). */
export async function requantizeGguf(
  inputPath: string,
  outPath: string,
  quantization: Quantization | null,
  extraMetadata = new Map<string, GgufValue>(),
): Promise<{ quantized: number; kept: number }> {
  const parsed = await gguf(inputPath, { typedMetadata: true, allowLocalFile: true });
  const file = readFileSync(inputPath);
  const metadata = new Map<string, GgufValue>();
  for (const [key, entry] of Object.entries(parsed.typedMetadata)) {
    if (key === 'version' || key === 'tensor_count' || key === 'kv_count') continue;
    metadata.set(key, fromTypedMetadata(entry));
  }
  if (quantization) metadata.set('general.file_type', { type: GgufType.UINT32, value: QUANTIZATIONS[quantization].fileType });
  for (const [key, value] of extraMetadata) metadata.set(key, value);
  let quantized = 0;
  let kept = 0;
  const tensors: TensorSpec[] = parsed.tensorInfos.map((info) => {
    const dims = info.shape.map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    const start = Number(parsed.tensorDataOffset + info.offset);
    if (Number(info.dtype) !== GgmlType.F32) throw new Error(`${info.name}: only F32 inputs are supported`);
    const raw = file.subarray(start, start + 4 * count);
    if (quantization && dims.length === 2 && dims[0] % QK === 0) {
      quantized++;
      return quantizedTensor(
        info.name,
        dims,
        quantization,
        () => new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)),
      );
    }
    kept++;
    return { name: info.name, dims, type: GgmlType.F32, byteSize: raw.byteLength, data: () => new Uint8Array(raw) };
  });
  writeGguf(outPath, metadata, tensors);
  return { quantized, kept };
}
