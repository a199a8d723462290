// `npm run bench -- encode-image`: the image encoder's cost on a random-weight projector of a
// chosen family and size, paired with a text model of the projector's output width. Random
// weights cost what trained ones do; the rows are meaningless.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gguf } from '@huggingface/gguf';
import { join } from 'node:path';
import { writeProjector, writeVisionTextModel, type ProjectorFamily, type VisionShape } from './model/projector.js';
import { MtmdImageEncoder, type RgbImage } from '../vision/encoder.js';

export interface EncodeImageOptions {
  family: ProjectorFamily;
  shape: Partial<VisionShape>;
  matrixType: 'f32' | 'f16' | 'q8_0';
  /** Side of the square test image, in pixels. */
  pixels: number;
  threads: number;
  repeats: number;
  /** A small Llama GGUF with F32 weights whose embedding width the projector writes. */
  textModel: string;
}

export interface EncodeImageResult {
  projectorBytes: number;
  imageChunks: number;
  imageTokens: number;
  /** Median over the repeats. */
  tokenizeMs: number;
  encodeMs: number;
  /** Process CPU time over wall time during the encodes: about the number of busy threads. */
  cpuPerWall: number;
}

function noise(side: number, seed: number): RgbImage {
  const data = new Uint8Array(side * side * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width: side, height: side, data };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchEncodeImage(options: EncodeImageOptions): Promise<EncodeImageResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tgi-node-encode-'));
  try {
    const projector = join(dir, `mmproj-${options.family}.gguf`);
    const textModel = join(dir, `text-${options.family}.gguf`);
    const header = (await gguf(options.textModel, { allowLocalFile: true })).metadata as Record<string, unknown>;
    const outputWidth = Number(header[`${String(header['general.architecture'])}.embedding_length`]);
    const { bytes } = writeProjector({
      family: options.family,
      outPath: projector,
      outputWidth,
      shape: options.shape,
      matrixType: options.matrixType,
    });
    await writeVisionTextModel(options.textModel, textModel, options.family);
    const encoder = await MtmdImageEncoder.open(textModel, projector, { threads: options.threads });
    const tokenizeMs: number[] = [];
    const encodeMs: number[] = [];
    let imageChunks = 0;
    let imageTokens = 0;
    let cpu = 0;
    let wall = 0;
    try {
      for (let r = 0; r < options.repeats; r++) {
        let start = performance.now();
        const prompt = await encoder.tokenize(`An image: ${encoder.info.marker}`, [noise(options.pixels, r + 1)]);
        tokenizeMs.push(performance.now() - start);
        const chunks = prompt.chunks.flatMap((c) => (c.kind === 'image' ? [c] : []));
        imageChunks = chunks.length;
        imageTokens = chunks.reduce((sum, c) => sum + c.tokens, 0);
        const cpuStart = process.cpuUsage();
        start = performance.now();
        let position = 0;
        for (const chunk of chunks) position = (await encoder.encode(prompt, chunk.index, position)).next;
        const elapsed = performance.now() - start;
        const used = process.cpuUsage(cpuStart);
        encodeMs.push(elapsed);
        wall += elapsed;
        cpu += (used.user + used.system) / 1000;
        prompt.dispose();
      }
    } finally {
      await encoder.close();
    }
    return {
      projectorBytes: bytes,
      imageChunks,
      imageTokens,
      tokenizeMs: median(tokenizeMs),
      encodeMs: median(encodeMs),
      cpuPerWall: cpu / wall,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
