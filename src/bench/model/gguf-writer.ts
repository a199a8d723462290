// Writes GGUF v3 files: metadata, tensor infos, then tensor data produced one tensor at a time so
// that models larger than memory can be written.
import { openSync, writeSync, closeSync } from 'node:fs';

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
}

export interface GgufValue {
  type: GgufType;
  value: unknown;
  subType?: GgufType;
}

/** A metadata entry as @huggingface/gguf's typed parse gives it. */
export function fromTypedMetadata(entry: unknown): GgufValue {
  const typed = entry as { type: number; value: unknown; subType?: number };
  return { type: typed.type as GgufType, value: typed.value, subType: typed.subType as GgufType | undefined };
}

export interface TensorSpec {
  name: string;
  /** ggml order: dims[0] is the contiguous (row) dimension. */
  dims: number[];
  type: GgmlType;
  byteSize: number;
  /** Produces the tensor's bytes when it is written. */
  data: () => Uint8Array;
}

const ALIGNMENT = 32;

class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }

  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }

  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }

  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  scalar(type: GgufType, v: unknown): void {
    const b = Buffer.alloc(8);
    switch (type) {
      case GgufType.UINT8:
        b.writeUInt8(Number(v));
        return this.push(b.subarray(0, 1));
      case GgufType.INT8:
        b.writeInt8(Number(v));
        return this.push(b.subarray(0, 1));
      case GgufType.UINT16:
        b.writeUInt16LE(Number(v));
        return this.push(b.subarray(0, 2));
      case GgufType.INT16:
        b.writeInt16LE(Number(v));
        return this.push(b.subarray(0, 2));
      case GgufType.UINT32:
        b.writeUInt32LE(Number(v));
        return this.push(b.subarray(0, 4));
      case GgufType.INT32:
        b.writeInt32LE(Number(v));
        return this.push(b.subarray(0, 4));
      case GgufType.FLOAT32:
        b.writeFloatLE(Number(v));
        return this.push(b.subarray(0, 4));
      case GgufType.BOOL:
        b.writeUInt8(v ? 1 : 0);
        return this.push(b.subarray(0, 1));
      case GgufType.UINT64:
        b.writeBigUInt64LE(BigInt(v as number));
        return this.push(b);
      case GgufType.INT64:
        b.writeBigInt64LE(BigInt(v as number));
        return this.push(b);
      case GgufType.FLOAT64:
        b.writeDoubleLE(Number(v));
        return this.push(b);
      case GgufType.STRING:
        return this.string(String(v));
      default:
        throw new Error(`unsupported scalar type ${type}`);
    }
  }

  value(entry: GgufValue): void {
    this.u32(entry.type);
    if (entry.type !== GgufType.ARRAY) return this.scalar(entry.type, entry.value);
    const items = entry.value as unknown[];
    if (entry.subType === undefined) throw new Error('array value without element type');
    this.u32(entry.subType);
    this.u64(items.length);
    for (const item of items) this.scalar(entry.subType, item);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const padding = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

export function writeGguf(
  path: string,
  metadata: Map<string, GgufValue>,
  tensors: TensorSpec[],
  onTensor?: (index: number) => void,
): number {
  const header = new ByteSink();
  header.push(Buffer.from('GGUF', 'ascii'));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.size);
  for (const [key, entry] of metadata) {
    header.string(key);
    header.value(entry);
  }
  let offset = 0;
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const d of tensor.dims) header.u64(d);
    header.u32(tensor.type);
    header.u64(offset);
    offset += tensor.byteSize + padding(tensor.byteSize);
  }
  header.push(Buffer.alloc(padding(header.length)));
  const fd = openSync(path, 'w');
  try {
    let written = writeSync(fd, header.toBuffer());
    tensors.forEach((tensor, index) => {
      const data = tensor.data();
      if (data.byteLength !== tensor.byteSize)
        throw new Error(`tensor ${tensor.name}: ${data.byteLength} bytes, expected ${tensor.byteSize}`);
      written += writeSync(fd, data);
      written += writeSync(fd, Buffer.alloc(padding(tensor.byteSize)));
      onTensor?.(index);
    });
    return written;
  } finally {
    closeSync(fd);
  }
}
