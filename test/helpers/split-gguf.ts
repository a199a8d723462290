// Splits an F32 GGUF into llama.cpp's split format (<prefix>-0000i-of-0000N.gguf, the tensors
// shared out, `split.*` metadata in every part), as llama.cpp's gguf-split writes it.
import { readFileSync } from 'node:fs';
import { gguf } from '@huggingface/gguf';
import { fromTypedMetadata, GgmlType, GgufType, writeGguf, type GgufValue, type TensorSpec } from '../../src/bench/model/gguf-writer.js';

export const splitName = (prefix: string, index: number, count: number) =>
  `${prefix}-${String(index + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`;

export async function splitGguf(inputPath: string, outPrefix: string, parts: number): Promise<string[]> {
  const parsed = await gguf(inputPath, { typedMetadata: true, allowLocalFile: true });
  const file = readFileSync(inputPath);
  const tensors: TensorSpec[] = parsed.tensorInfos.map((info) => {
    const dims = info.shape.map(Number);
    if (Number(info.dtype) !== GgmlType.F32) throw new Error(`${info.name}: only F32 tensors are supported`);
    const start = Number(parsed.tensorDataOffset + info.offset);
    const bytes = file.subarray(start, start + 4 * dims.reduce((a, b) => a * b, 1));
    return { name: info.name, dims, type: GgmlType.F32, byteSize: bytes.byteLength, data: () => new Uint8Array(bytes) };
  });
  const paths: string[] = [];
  const perPart = Math.ceil(tensors.length / parts);
  for (let i = 0; i < parts; i++) {
    const metadata = new Map<string, GgufValue>();
    if (i === 0) {
      for (const [key, entry] of Object.entries(parsed.typedMetadata)) {
        if (key !== 'version' && key !== 'tensor_count' && key !== 'kv_count') metadata.set(key, fromTypedMetadata(entry));
      }
    }
    metadata.set('split.no', { type: GgufType.UINT16, value: i });
    metadata.set('split.count', { type: GgufType.UINT16, value: parts });
    metadata.set('split.tensors.count', { type: GgufType.INT32, value: tensors.length });
    const path = splitName(outPrefix, i, parts);
    writeGguf(path, metadata, tensors.slice(i * perPart, (i + 1) * perPart));
    paths.push(path);
  }
  return paths;
}
