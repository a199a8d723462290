// Image rows as llama-server's own llama.cpp build computes them: a small C++ program compiled
// against the cached llama-server build (its headers and its libmtmd), which tokenizes a prompt
// with images through mtmd and writes each chunk (text token ids, or the encoded rows). The test
// compares them with the rows of our image encoder, a different llama.cpp build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Pixels } from '../../src/bench/vision-reference.js';

const SOURCE = String.raw`
#include "llama.h"
#include "mtmd.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// usage: rows <backends dir> <text model> <projector> <prompt file> <out file> [<width> <height> <rgb file>]...
int main(int argc, char ** argv) {
  if (argc < 6 || (argc - 6) % 3 != 0) return 2;
  ggml_backend_load_all_from_path(argv[1]);
  llama_model_params mparams = llama_model_default_params();
  mparams.vocab_only = false;
  llama_model * model = llama_model_load_from_file(argv[2], mparams);
  if (!model) return 3;
  mtmd_context_params cparams = mtmd_context_params_default();
  cparams.use_gpu = false;
  cparams.n_threads = 1;
  cparams.print_timings = false;
  cparams.warmup = false;
  mtmd_context * ctx = mtmd_init_from_file(argv[3], model, cparams);
  if (!ctx) return 4;
  std::string prompt;
  {
    FILE * f = fopen(argv[4], "rb");
    if (!f) return 5;
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) prompt.append(buffer, n);
    fclose(f);
  }
  std::vector<mtmd_bitmap *> bitmaps;
  for (int i = 6; i < argc; i += 3) {
    const unsigned nx = atoi(argv[i]), ny = atoi(argv[i + 1]);
    std::vector<unsigned char> rgb(3 * (size_t) nx * ny);
    FILE * f = fopen(argv[i + 2], "rb");
    if (!f || fread(rgb.data(), 1, rgb.size(), f) != rgb.size()) return 6;
    fclose(f);
    bitmaps.push_back(mtmd_bitmap_init(nx, ny, rgb.data()));
  }
  mtmd_input_text text = { prompt.c_str(), prompt.size(), true, true };
  mtmd_input_chunks * chunks = mtmd_input_chunks_init();
  std::vector<const mtmd_bitmap *> list(bitmaps.begin(), bitmaps.end());
  if (mtmd_tokenize(ctx, chunks, &text, list.data(), list.size()) != 0) return 7;
  const size_t width = llama_model_n_embd_inp(model);
  FILE * out = fopen(argv[5], "wb");
  for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
    const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
    if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
      size_t n;
      const llama_token * tokens = mtmd_input_chunk_get_tokens_text(chunk, &n);
      printf("text");
      for (size_t j = 0; j < n; j++) printf(" %d", tokens[j]);
      printf("\n");
    } else {
      if (mtmd_encode_chunk(ctx, chunk) != 0) return 8;
      const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
      printf("image %zu\n", n);
      fwrite(mtmd_get_output_embd(ctx), sizeof(float), n * width, out);
    }
  }
  fclose(out);
  return 0;
}
`;

export type ReferenceChunk = { kind: 'text'; tokens: number[] } | { kind: 'image'; rows: Float32Array };

export interface ReferenceRows {
  /** The prompt's chunks as llama-server's build cuts and encodes them. */
  chunks(textModel: string, projector: string, prompt: string, images: Pixels[], width: number): ReferenceChunk[];
  /** Deletes the program and its files. */
  remove(): void;
}

/**
 * Compiles the program against the llama.cpp build beside `binary` (llama-server in
 * `<source>/<build>/bin`); a string saying why not when there is no compiler or no headers.
 */
export function compileReferenceRows(binary: string): ReferenceRows | string {
  const bin = dirname(binary);
  const source = resolve(bin, '..', '..');
  const includes = ['include', join('ggml', 'include'), join('tools', 'mtmd')].map((dir) => join(source, dir));
  const missing = includes.find((dir) => !existsSync(dir));
  if (missing) return `no llama.cpp headers at ${missing}`;
  const dir = mkdtempSync(join(tmpdir(), 'tgi-node-reference-rows-'));
  const program = join(dir, 'rows');
  writeFileSync(join(dir, 'rows.cpp'), SOURCE);
  // The C++ compiler: $CXX, as build tools read it, else g++.
  const compiler = process.env.CXX ?? 'g++';
  const compiled = spawnSync(
    compiler,
    [
      '-O1',
      '-std=c++17',
      join(dir, 'rows.cpp'),
      ...includes.map((include) => `-I${include}`),
      `-L${bin}`,
      '-lmtmd',
      '-lllama',
      '-lggml',
      '-lggml-base',
      `-Wl,-rpath,${bin}`,
      '-o',
      program,
    ],
    { encoding: 'utf8' },
  );
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (compiled.error || compiled.status !== 0) remove();
  if (compiled.error) return `no C++ compiler (${compiled.error.message})`;
  if (compiled.status !== 0) return `the program did not compile:\n${compiled.stderr}`;
  let calls = 0;
  return {
    remove,
    chunks(textModel, projector, prompt, images, width) {
      const call = calls++;
      const promptFile = join(dir, `prompt-${call}.txt`);
      const outFile = join(dir, `rows-${call}.bin`);
      writeFileSync(promptFile, prompt);
      const imageArgs = images.flatMap((image, i) => {
        const file = join(dir, `image-${call}-${i}.rgb`);
        writeFileSync(file, image.data);
        return [String(image.width), String(image.height), file];
      });
      const run = spawnSync(program, [bin, textModel, projector, promptFile, outFile, ...imageArgs], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`reference rows exited with ${run.status ?? run.signal}:\n${run.stderr.slice(-2000)}`);
      const raw = readFileSync(outFile);
      const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      let offset = 0;
      return run.stdout
        .trim()
        .split('\n')
        .map((line): ReferenceChunk => {
          const [kind, ...rest] = line.split(' ');
          if (kind === 'text') return { kind: 'text', tokens: rest.map(Number) };
          const count = Number(rest[0]) * width;
          const rows = floats.slice(offset, offset + count);
          offset += count;
          return { kind: 'image', rows };
        });
    },
  };
}
