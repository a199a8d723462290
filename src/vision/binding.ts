// FFI declarations for llama.cpp's multimodal library (mtmd) as the @fugood/node-llama-<platform>
// packages build it: one Node-API addon with llama.cpp, ggml and mtmd linked in statically.
// That llama.cpp is not the release the text engine loads (engine/llama/), so its structs are
// declared here under their own names, and nothing of one build (models, tensors, contexts) is
// ever handed to the other: only plain token ids and float rows cross. The addon is opened
// without RTLD_GLOBAL, so that each build's internal calls resolve to its own symbols.
import koffi from 'koffi';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Handle = unknown;

/** Struct layouts of the addon's llama.h and mtmd.h (llama.cpp b10256, commit 22dc605). */
koffi.struct('mtmd_llama_model_params', {
  devices: 'void *',
  tensor_buft_overrides: 'void *',
  n_gpu_layers: 'int32_t',
  split_mode: 'int',
  load_mode: 'int',
  main_gpu: 'int32_t',
  tensor_split: 'void *',
  progress_callback: 'void *',
  progress_callback_user_data: 'void *',
  kv_overrides: 'void *',
  vocab_only: 'bool',
  check_tensors: 'bool',
  use_extra_bufts: 'bool',
  no_host: 'bool',
  no_alloc: 'bool',
  load_mtp: 'bool',
});

koffi.struct('mtmd_context_params', {
  use_gpu: 'bool',
  print_timings: 'bool',
  n_threads: 'int',
  image_marker: 'const char *',
  media_marker: 'const char *',
  flash_attn_type: 'int',
  warmup: 'bool',
  image_min_tokens: 'int',
  image_max_tokens: 'int',
  cb_eval: 'void *',
  cb_eval_user_data: 'void *',
  batch_max_tokens: 'int32_t',
  progress_callback: 'void *',
  progress_callback_user_data: 'void *',
});

koffi.struct('mtmd_input_text', { text: 'const char *', text_len: 'size_t', add_special: 'bool', parse_special: 'bool' });
koffi.struct('mtmd_decoder_pos', { t: 'uint32_t', x: 'uint32_t', y: 'uint32_t', z: 'uint32_t' });

const LogCallback = koffi.proto('void mtmd_log_callback(int level, const char *text, void *user_data)');

interface MtmdContextParams {
  use_gpu: boolean;
  print_timings: boolean;
  n_threads: number;
  media_marker: string | null;
  flash_attn_type: number;
  warmup: boolean;
  image_min_tokens: number;
  image_max_tokens: number;
  batch_max_tokens: number;
}

interface DecoderPos {
  t: number;
  x: number;
  y: number;
  z: number;
}

export const CHUNK_TEXT = 0;
export const CHUNK_IMAGE = 1;

/** ggml's log levels. */
export const LOG_ERROR = 4;

type Call<A extends unknown[], R> = ((...args: A) => R) & { async: (...args: [...A, (error: unknown, result: R) => void]) => void };

function bind(lib: ReturnType<typeof koffi.load>) {
  const fn = <A extends unknown[], R>(signature: string) => lib.func(signature) as unknown as Call<A, R>;
  return {
    llama_backend_init: fn<[], void>('void llama_backend_init(void)'),
    llama_log_set: fn<[Handle, Handle], void>('void llama_log_set(mtmd_log_callback *cb, void *user_data)'),
    mtmd_helper_log_set: fn<[Handle, Handle], void>('void mtmd_helper_log_set(mtmd_log_callback *cb, void *user_data)'),
    llama_model_default_params: fn<[], Record<string, unknown>>('mtmd_llama_model_params llama_model_default_params(void)'),
    llama_model_load_from_file: fn<[string, Record<string, unknown>], Handle>(
      'void *llama_model_load_from_file(const char *path, mtmd_llama_model_params params)',
    ),
    llama_model_free: fn<[Handle], void>('void llama_model_free(void *model)'),
    llama_model_n_embd_inp: fn<[Handle], number>('int32_t llama_model_n_embd_inp(void *model)'),
    mtmd_default_marker: fn<[], string>('const char *mtmd_default_marker(void)'),
    mtmd_context_params_default: fn<[], MtmdContextParams>('mtmd_context_params mtmd_context_params_default(void)'),
    mtmd_init_from_file: fn<[string, Handle, MtmdContextParams], Handle>(
      'void *mtmd_init_from_file(const char *mmproj_fname, void *text_model, mtmd_context_params params)',
    ),
    mtmd_free: fn<[Handle], void>('void mtmd_free(void *ctx)'),
    mtmd_support_vision: fn<[Handle], boolean>('bool mtmd_support_vision(void *ctx)'),
    mtmd_decode_use_mrope: fn<[Handle], boolean>('bool mtmd_decode_use_mrope(void *ctx)'),
    mtmd_decode_use_non_causal: fn<[Handle, Handle], boolean>('bool mtmd_decode_use_non_causal(void *ctx, void *chunk)'),
    mtmd_bitmap_init: fn<[number, number, Uint8Array], Handle>('void *mtmd_bitmap_init(uint32_t nx, uint32_t ny, const uint8_t *data)'),
    mtmd_bitmap_set_id: fn<[Handle, string], void>('void mtmd_bitmap_set_id(void *bitmap, const char *id)'),
    mtmd_bitmap_free: fn<[Handle], void>('void mtmd_bitmap_free(void *bitmap)'),
    mtmd_input_chunks_init: fn<[], Handle>('void *mtmd_input_chunks_init(void)'),
    mtmd_input_chunks_free: fn<[Handle], void>('void mtmd_input_chunks_free(void *chunks)'),
    mtmd_input_chunks_size: fn<[Handle], number>('size_t mtmd_input_chunks_size(void *chunks)'),
    mtmd_input_chunks_get: fn<[Handle, number], Handle>('void *mtmd_input_chunks_get(void *chunks, size_t idx)'),
    mtmd_tokenize: fn<[Handle, Handle, Record<string, unknown>, Handle[], number], number>(
      'int32_t mtmd_tokenize(void *ctx, void *output, const mtmd_input_text *text, void **bitmaps, size_t n_bitmaps)',
    ),
    mtmd_input_chunk_get_type: fn<[Handle], number>('int mtmd_input_chunk_get_type(void *chunk)'),
    mtmd_input_chunk_get_n_tokens: fn<[Handle], number>('size_t mtmd_input_chunk_get_n_tokens(void *chunk)'),
    mtmd_input_chunk_get_n_pos: fn<[Handle], number>('int32_t mtmd_input_chunk_get_n_pos(void *chunk)'),
    mtmd_input_chunk_get_id: fn<[Handle], string | null>('const char *mtmd_input_chunk_get_id(void *chunk)'),
    mtmd_input_chunk_get_tokens_text: fn<[Handle, [number]], Handle>(
      'const int32_t *mtmd_input_chunk_get_tokens_text(void *chunk, _Out_ size_t *n_tokens)',
    ),
    mtmd_input_chunk_get_tokens_image: fn<[Handle], Handle>('void *mtmd_input_chunk_get_tokens_image(void *chunk)'),
    mtmd_image_tokens_get_decoder_pos: fn<[Handle, number, number], DecoderPos>(
      'mtmd_decoder_pos mtmd_image_tokens_get_decoder_pos(void *image_tokens, int32_t pos_0, size_t i)',
    ),
    mtmd_encode_chunk: fn<[Handle, Handle], number>('int32_t mtmd_encode_chunk(void *ctx, void *chunk)'),
    mtmd_get_output_embd: fn<[Handle], Handle>('float *mtmd_get_output_embd(void *ctx)'),
  };
}

export type MtmdApi = ReturnType<typeof bind> & {
  /** Registers a JS log sink for both the addon's llama.cpp and its mtmd. */
  setLogSink(sink: (level: number, text: string) => void): void;
  packageName: string;
};

const require = createRequire(import.meta.url);

/** The addon packages, one per platform, that carry mtmd. */
function mtmdPackageName(platform = process.platform, arch = process.arch): string {
  return `@fugood/node-llama-${platform}-${arch}`;
}

function locateAddon(): { packageName: string; path: string } {
  const packageName = mtmdPackageName();
  let root: string;
  try {
    root = dirname(require.resolve(`${packageName}/package.json`));
  } catch {
    throw new Error(
      `Image inputs need the optional package ${packageName} (llama.cpp's mtmd, prebuilt), which is not installed on ${process.platform}-${process.arch}.`,
    );
  }
  const path = join(root, 'index.node');
  if (!existsSync(path)) throw new Error(`${packageName} has no index.node`);
  return { packageName, path };
}

let api: MtmdApi | undefined;

/** Opens the addon once per thread. */
export function loadMtmdApi(): MtmdApi {
  if (api) return api;
  const { packageName, path } = locateAddon();
  // koffi opens with RTLD_LOCAL unless told `global`: required here (see the header).
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(path);
  } catch (error) {
    // The x64 addon is built with OpenMP: libgomp.so.1 (Debian's libgomp1) must be installed.
    throw new Error(`cannot load ${packageName}: ${(error as Error).message}`, { cause: error });
  }
  const bound = bind(lib);
  let sink: (level: number, text: string) => void = () => {};
  const callback = koffi.register((level: number, text: string) => sink(level, text), koffi.pointer(LogCallback));
  bound.llama_log_set(callback, null);
  bound.mtmd_helper_log_set(callback, null);
  bound.llama_backend_init();
  api = {
    ...bound,
    packageName,
    setLogSink: (next) => {
      sink = next;
    },
  };
  return api;
}
