// FFI declarations for the subset of llama.cpp's C API that tgi-node drives.
// Struct layouts mirror include/llama.h of the llama.cpp release bundled with the pinned
// @node-llama-cpp/* binary packages; a layout change there must be mirrored here.
import koffi from 'koffi';
import { locateLlamaBinaries } from './library.js';

export type Pointer = bigint;

const ProgressCallback = koffi.proto('bool llama_progress_callback(float progress, void *user_data)');
const LogCallback = koffi.proto('void ggml_log_callback(int level, const char *text, void *user_data)');
const ThreadpoolNew = koffi.proto('void *ggml_threadpool_new(void *params)');
const ThreadpoolFree = koffi.proto('void ggml_threadpool_free(void *threadpool)');
/** Byte layout of struct ggml_threadpool_params: bool cpumask[512], int n_threads, int prio, uint32 poll, bool strict_cpu, bool paused. */
const THREADPOOL_PARAMS_BYTES = 528;
const THREADPOOL_POLL_OFFSET = 520;
const CPU_DEVICE_TYPE = 0;

// Registered by name: the function signatures below refer to these structs by their C names.
koffi.struct('llama_model_params', {
  devices: 'void *',
  tensor_buft_overrides: 'void *',
  n_gpu_layers: 'int32_t',
  split_mode: 'int',
  load_mode: 'int',
  lazy_mode: 'int',
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

koffi.struct('llama_context_params', {
  n_ctx: 'uint32_t',
  n_batch: 'uint32_t',
  n_ubatch: 'uint32_t',
  n_seq_max: 'uint32_t',
  n_rs_seq: 'uint32_t',
  n_outputs_max: 'uint32_t',
  n_outputs_max_per_seq: 'uint32_t',
  n_threads: 'int32_t',
  n_threads_batch: 'int32_t',
  ctx_type: 'int',
  rope_scaling_type: 'int',
  pooling_type: 'int',
  attention_type: 'int',
  flash_attn_type: 'int',
  rope_freq_base: 'float',
  rope_freq_scale: 'float',
  yarn_ext_factor: 'float',
  yarn_attn_factor: 'float',
  yarn_beta_fast: 'float',
  yarn_beta_slow: 'float',
  yarn_orig_ctx: 'uint32_t',
  defrag_thold: 'float',
  cb_eval: 'void *',
  cb_eval_user_data: 'void *',
  type_k: 'int',
  type_v: 'int',
  abort_callback: 'void *',
  abort_callback_data: 'void *',
  embeddings: 'bool',
  offload_kqv: 'bool',
  no_perf: 'bool',
  op_offload: 'bool',
  swa_full: 'bool',
  kv_unified: 'bool',
  samplers: 'void *',
  n_samplers: 'size_t',
  ctx_other: 'void *',
});

koffi.struct('llama_batch', {
  n_tokens: 'int32_t',
  token: 'void *',
  embd: 'void *',
  pos: 'void *',
  n_seq_id: 'void *',
  seq_id: 'void *',
  logits: 'void *',
});

export interface ModelParams {
  devices: Pointer | null;
  tensor_buft_overrides: Pointer | null;
  n_gpu_layers: number;
  split_mode: number;
  load_mode: number;
  lazy_mode: number;
  main_gpu: number;
  tensor_split: Pointer | null;
  progress_callback: Pointer | null;
  progress_callback_user_data: Pointer | null;
  kv_overrides: Pointer | null;
  vocab_only: boolean;
  check_tensors: boolean;
  use_extra_bufts: boolean;
  no_host: boolean;
  no_alloc: boolean;
  load_mtp: boolean;
}

export interface ContextParams {
  n_ctx: number;
  n_batch: number;
  n_ubatch: number;
  n_seq_max: number;
  n_outputs_max: number;
  n_threads: number;
  n_threads_batch: number;
  flash_attn_type: number;
  type_k: number;
  type_v: number;
  offload_kqv: boolean;
  no_perf: boolean;
  kv_unified: boolean;
  [key: string]: unknown;
}

export const FLASH_ATTN = { auto: -1, off: 0, on: 1 } as const;

/** ggml tensor types usable for the KV cache, by the names llama.cpp's CLI accepts. */
export const GGML_TYPES: Record<string, number> = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q4_1: 3,
  q5_0: 6,
  q5_1: 7,
  q8_0: 8,
  bf16: 30,
};

function bind(lib: ReturnType<typeof koffi.load>) {
  return {
    llama_backend_init: lib.func('void llama_backend_init(void)'),
    llama_print_system_info: lib.func('const char *llama_print_system_info(void)'),
    llama_supports_gpu_offload: lib.func('bool llama_supports_gpu_offload(void)'),
    llama_max_parallel_sequences: lib.func('size_t llama_max_parallel_sequences(void)'),
    llama_log_set: lib.func('void llama_log_set(ggml_log_callback *cb, void *user_data)'),
    llama_model_default_params: lib.func('llama_model_params llama_model_default_params(void)'),
    llama_context_default_params: lib.func('llama_context_params llama_context_default_params(void)'),
    llama_model_load_from_file: lib.func('void *llama_model_load_from_file(const char *path, llama_model_params params)'),
    llama_model_load_from_splits: lib.func(
      'void *llama_model_load_from_splits(const char **paths, size_t n_paths, llama_model_params params)',
    ),
    llama_model_free: lib.func('void llama_model_free(void *model)'),
    llama_init_from_model: lib.func('void *llama_init_from_model(void *model, llama_context_params params)'),
    llama_free: lib.func('void llama_free(void *ctx)'),
    llama_n_ctx: lib.func('uint32_t llama_n_ctx(void *ctx)'),
    llama_n_ctx_seq: lib.func('uint32_t llama_n_ctx_seq(void *ctx)'),
    llama_n_batch: lib.func('uint32_t llama_n_batch(void *ctx)'),
    llama_n_ubatch: lib.func('uint32_t llama_n_ubatch(void *ctx)'),
    llama_n_seq_max: lib.func('uint32_t llama_n_seq_max(void *ctx)'),
    llama_n_threads: lib.func('int32_t llama_n_threads(void *ctx)'),
    llama_n_threads_batch: lib.func('int32_t llama_n_threads_batch(void *ctx)'),
    llama_get_memory: lib.func('void *llama_get_memory(void *ctx)'),
    llama_memory_clear: lib.func('void llama_memory_clear(void *mem, bool data)'),
    llama_memory_seq_rm: lib.func('bool llama_memory_seq_rm(void *mem, int32_t seq_id, int32_t p0, int32_t p1)'),
    llama_memory_seq_cp: lib.func('void llama_memory_seq_cp(void *mem, int32_t src, int32_t dst, int32_t p0, int32_t p1)'),
    llama_state_seq_get_size: lib.func('size_t llama_state_seq_get_size(void *ctx, int32_t seq_id)'),
    llama_state_seq_get_data: lib.func('size_t llama_state_seq_get_data(void *ctx, void *dst, size_t size, int32_t seq_id)'),
    llama_state_seq_set_data: lib.func('size_t llama_state_seq_set_data(void *ctx, const void *src, size_t size, int32_t dest_seq_id)'),
    llama_attach_threadpool: lib.func('void llama_attach_threadpool(void *ctx, void *threadpool, void *threadpool_batch)'),
    llama_decode: lib.func('int32_t llama_decode(void *ctx, llama_batch batch)'),
    llama_set_causal_attn: lib.func('void llama_set_causal_attn(void *ctx, bool causal)'),
    llama_get_logits: lib.func('float *llama_get_logits(void *ctx)'),
    llama_adapter_lora_init: lib.func('void *llama_adapter_lora_init(void *model, const char *path)'),
    llama_adapter_lora_free: lib.func('void llama_adapter_lora_free(void *adapter)'),
    llama_set_adapters_lora: lib.func('int32_t llama_set_adapters_lora(void *ctx, void **adapters, size_t n_adapters, float *scales)'),
    llama_adapter_get_alora_n_invocation_tokens: lib.func('uint64_t llama_adapter_get_alora_n_invocation_tokens(void *adapter)'),
    llama_model_get_vocab: lib.func('void *llama_model_get_vocab(void *model)'),
    llama_model_n_ctx_train: lib.func('int32_t llama_model_n_ctx_train(void *model)'),
    llama_model_n_embd: lib.func('int32_t llama_model_n_embd(void *model)'),
    llama_model_n_layer: lib.func('int32_t llama_model_n_layer(void *model)'),
    llama_model_n_head: lib.func('int32_t llama_model_n_head(void *model)'),
    llama_model_n_head_kv: lib.func('int32_t llama_model_n_head_kv(void *model)'),
    llama_model_n_params: lib.func('uint64_t llama_model_n_params(void *model)'),
    llama_model_size: lib.func('uint64_t llama_model_size(void *model)'),
    llama_model_desc: lib.func('int32_t llama_model_desc(void *model, _Out_ uint8_t *buf, size_t buf_size)'),
    llama_model_meta_val_str: lib.func(
      'int32_t llama_model_meta_val_str(void *model, const char *key, _Out_ uint8_t *buf, size_t buf_size)',
    ),
    llama_model_chat_template: lib.func('const char *llama_model_chat_template(void *model, const char *name)'),
    llama_vocab_type: lib.func('int llama_vocab_type(void *vocab)'),
    llama_vocab_n_tokens: lib.func('int32_t llama_vocab_n_tokens(void *vocab)'),
    llama_vocab_get_text: lib.func('const char *llama_vocab_get_text(void *vocab, int32_t token)'),
    llama_vocab_get_attr: lib.func('int llama_vocab_get_attr(void *vocab, int32_t token)'),
    llama_vocab_is_eog: lib.func('bool llama_vocab_is_eog(void *vocab, int32_t token)'),
    llama_vocab_is_control: lib.func('bool llama_vocab_is_control(void *vocab, int32_t token)'),
    llama_vocab_bos: lib.func('int32_t llama_vocab_bos(void *vocab)'),
    llama_vocab_eos: lib.func('int32_t llama_vocab_eos(void *vocab)'),
    llama_vocab_eot: lib.func('int32_t llama_vocab_eot(void *vocab)'),
    llama_vocab_fim_pre: lib.func('int32_t llama_vocab_fim_pre(void *vocab)'),
    llama_vocab_fim_suf: lib.func('int32_t llama_vocab_fim_suf(void *vocab)'),
    llama_vocab_fim_mid: lib.func('int32_t llama_vocab_fim_mid(void *vocab)'),
    llama_vocab_get_add_bos: lib.func('bool llama_vocab_get_add_bos(void *vocab)'),
    llama_vocab_get_add_eos: lib.func('bool llama_vocab_get_add_eos(void *vocab)'),
    llama_tokenize: lib.func(
      'int32_t llama_tokenize(void *vocab, const uint8_t *text, int32_t text_len, _Out_ int32_t *tokens, int32_t n_tokens_max, bool add_special, bool parse_special)',
    ),
    llama_token_to_piece: lib.func(
      'int32_t llama_token_to_piece(void *vocab, int32_t token, _Out_ uint8_t *buf, int32_t length, int32_t lstrip, bool special)',
    ),
    llama_detokenize: lib.func(
      'int32_t llama_detokenize(void *vocab, const int32_t *tokens, int32_t n_tokens, _Out_ uint8_t *text, int32_t text_len_max, bool remove_special, bool unparse_special)',
    ),
  };
}

export type LlamaApi = ReturnType<typeof bind> & {
  registerProgressCallback(fn: (progress: number) => boolean): Pointer;
  /** Where llama.cpp's log lines go (level as in ggml_log_level); silent until set. */
  setLogSink(fn: (level: number, text: string) => void): void;
  unregister(cb: Pointer): void;
  /** Allocates native memory that llama.cpp can read and JS can view without copies. */
  allocBytes(bytes: number): { ptr: Pointer; buffer: ArrayBuffer };
  view(ptr: Pointer, bytes: number): ArrayBuffer;
  /**
   * A CPU thread pool that lives as long as the context it is attached to. Without one, ggml
   * starts and joins its worker threads for every decode. `poll` (0-100) is how long idle workers
   * spin before sleeping.
   */
  createThreadpool(threads: number, poll: number): Pointer | null;
  freeThreadpool(threadpool: Pointer): void;
  binariesDir: string;
};

let cached: LlamaApi | undefined;

/** Loads the prebuilt llama.cpp libraries once per thread and returns their bound API. */
export function loadLlamaApi(): LlamaApi {
  if (cached) return cached;
  const { dir, llamaLib, ggmlLib, ggmlBaseLib } = locateLlamaBinaries();
  const ggml = koffi.load(ggmlLib);
  const ggmlBase = koffi.load(ggmlBaseLib);
  const lib = koffi.load(llamaLib);
  const api = bind(lib);
  // Capture llama.cpp's logging before anything can print, including the backend loading below.
  let sink: (level: number, text: string) => void = () => {};
  const logCallback = koffi.register((level: number, text: string) => sink(level, text), koffi.pointer(LogCallback));
  api.llama_log_set(logCallback, null);
  // CPU and GPU backends live in separate libraries: the best variant for this CPU is picked here.
  ggml.func('void ggml_backend_load_all_from_path(const char *dir)')(dir);
  api.llama_backend_init();
  // The thread pool functions live in the CPU backend variant loaded above, reached through its registry.
  const cpuDevice = ggml.func('void *ggml_backend_dev_by_type(int type)')(CPU_DEVICE_TYPE) as Pointer | null;
  const cpuRegistry = cpuDevice ? (ggmlBase.func('void *ggml_backend_dev_backend_reg(void *device)')(cpuDevice) as Pointer | null) : null;
  const procAddress = ggmlBase.func('void *ggml_backend_reg_get_proc_address(void *reg, const char *name)');
  const cpuFunction = (name: string): Pointer | null => (cpuRegistry ? (procAddress(cpuRegistry, name) as Pointer | null) : null);
  const threadpoolNew = cpuFunction('ggml_threadpool_new');
  const threadpoolFree = cpuFunction('ggml_threadpool_free');
  const threadpoolParamsInit = ggmlBase.func('void ggml_threadpool_params_init(void *params, int n_threads)');
  cached = {
    ...api,
    binariesDir: dir,
    registerProgressCallback: (fn) => koffi.register((p: number) => fn(p), koffi.pointer(ProgressCallback)),
    setLogSink: (fn) => {
      sink = fn;
    },
    unregister: (cb) => koffi.unregister(cb),
    allocBytes: (bytes) => {
      const ptr = koffi.alloc('uint8_t', bytes) as unknown as Pointer;
      return { ptr, buffer: koffi.view(ptr, bytes) };
    },
    view: (ptr, bytes) => koffi.view(ptr, bytes),
    createThreadpool: (threads, poll) => {
      if (!threadpoolNew) return null;
      const params = koffi.alloc('uint8_t', THREADPOOL_PARAMS_BYTES) as unknown as Pointer;
      try {
        threadpoolParamsInit(params, threads);
        new DataView(koffi.view(params, THREADPOOL_PARAMS_BYTES)).setUint32(THREADPOOL_POLL_OFFSET, poll, true);
        return koffi.call(threadpoolNew, ThreadpoolNew, params) as Pointer | null;
      } finally {
        koffi.free(params);
      }
    },
    freeThreadpool: (threadpool) => {
      if (threadpoolFree) koffi.call(threadpoolFree, ThreadpoolFree, threadpool);
    },
  };
  return cached;
}
