// The benchmark model of a shape, quantization and vocabulary, written once into the cache.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheDir } from '../llama-server.js';
import { SHAPES, writeSyntheticLlama, type Quantization } from './synthetic-llama.js';

export interface BenchModelOptions {
  /** A GGUF to use as it is instead. */
  model?: string;
  shape: string;
  quantization: Quantization;
  vocab: string;
}

export async function ensureBenchModel(options: BenchModelOptions, log: (message: string) => void): Promise<string> {
  if (options.model) return options.model;
  const dir = join(cacheDir(), 'models');
  mkdirSync(dir, { recursive: true });
  const vocabName = basename(options.vocab)
    .replace(/^ggml-vocab-/, '')
    .replace(/\.gguf$/, '');
  const path = join(dir, `synthetic-${options.shape}-${options.quantization}-${vocabName}.gguf`);
  if (!existsSync(path)) {
    log(`writing benchmark model ${path}`);
    const shape = SHAPES[options.shape];
    if (!shape) throw new Error(`unknown shape ${options.shape} (known: ${Object.keys(SHAPES).join(', ')})`);
    await writeSyntheticLlama({
      shape,
      shapeName: options.shape,
      vocabPath: options.vocab,
      quantization: options.quantization,
      outPath: path,
    });
  }
  return path;
}
