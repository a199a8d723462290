// The image encoder: a prompt with images -> text token runs and image chunks (mtmd's
// tokenizer, which adds each projector family's marker tokens and slices), and an image chunk ->
// the float rows the text model takes as input embeddings, with the positions they take.
// Every blocking call runs on a libuv worker (koffi's `.async`), one at a time per encoder, so
// the calling thread's event loop stays free while an image is preprocessed or encoded.
import koffi from 'koffi';
import { gguf } from '@huggingface/gguf';
import { DomainError } from '../core/errors.js';
import { CHUNK_IMAGE, CHUNK_TEXT, LOG_ERROR, loadMtmdApi, type Handle, type MtmdApi } from './binding.js';

/** The text a prompt holds where an image goes (mtmd's default marker). */
export const MEDIA_MARKER = '<__media__>';

/** Packed RGB pixels, 3 bytes a pixel, rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
  /** Identifies the image (a hash of its pixels); the image chunk carries it. */
  id?: string;
}

export type PromptChunk =
  | { kind: 'text'; tokens: Int32Array }
  | {
      kind: 'image';
      /** Rows the image becomes. */
      tokens: number;
      /** Positions the rows take: `tokens`, or for M-RoPE the image's longer side in merged patches. */
      positions: number;
      id: string | null;
      /** Index of the chunk in its prompt, for `encode`. */
      index: number;
    };

export interface EncodedImage {
  /** tokens x width floats, row-major. */
  rows: Float32Array;
  tokens: number;
  /**
   * The rows' positions: one plane of `tokens` (pos_0 + i), or for M-RoPE four planes (time,
   * height, width, unused) one after the other, as llama_batch.pos takes them.
   */
  positions: Int32Array;
  /** The position the next chunk starts at. */
  next: number;
  /** The rows must be decoded with causal attention off (Gemma 3). */
  nonCausal: boolean;
}

export interface ImageEncoderOptions {
  /**
   * Threads of each encode, as mtmd's n_threads. With @fugood/node-llama-linux-x64 1.7.15 an encode
   * was seen to run on one thread whatever this asks (and whatever OMP_NUM_THREADS says).
   */
  threads?: number;
  /**
   * Make the blocking calls on the calling thread instead of libuv workers: for a thread of its
   * own, whose CPU priority then applies to the encodes.
   */
  blocking?: boolean;
}

export interface EncoderInfo {
  /** Width of the rows: the text model's embedding width. */
  width: number;
  /** Image rows take M-RoPE positions (four planes). */
  mrope: boolean;
  /** The marker the prompt holds once per image. */
  marker: string;
  /** The addon package that encodes. */
  packageName: string;
}

/** A tokenized prompt: its chunks, valid until `dispose`. */
export class EncoderPrompt {
  constructor(
    readonly chunks: readonly PromptChunk[],
    /** mtmd_input_chunks *, owned. */
    readonly handle: Handle,
    private readonly release: (handle: Handle) => void,
  ) {}

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release(this.handle);
  }
}

function callAsync<R>(fn: { async: (...args: never[]) => void }, ...args: unknown[]): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    (fn.async as (...a: unknown[]) => void)(...args, (error: unknown, result: R) => (error ? reject(error) : resolve(result)));
  });
}

export class MtmdImageEncoder {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly api: MtmdApi,
    private readonly model: Handle,
    private readonly ctx: Handle,
    readonly info: EncoderInfo,
    private readonly blocking: boolean,
  ) {}

  private call<R>(fn: { async: (...args: never[]) => void }, ...args: unknown[]): Promise<R> {
    if (this.blocking) return Promise.resolve((fn as unknown as (...a: unknown[]) => R)(...args));
    return callAsync<R>(fn, ...args);
  }

  /**
   * Opens the text model's vocabulary (not its weights) and the projector in the addon's own
   * llama.cpp. Throws with llama.cpp's reason when the projector cannot be used with this model
   * (such as rows of another width than the model's embeddings).
   */
  static async open(textModelPath: string, projectorPath: string, options: ImageEncoderOptions = {}): Promise<MtmdImageEncoder> {
    // A vocabulary-only model has no embedding width, so mtmd cannot check the projector's
    // against it: the two files' headers are compared here.
    const { width, projectorType } = await projectorWidth(projectorPath);
    const textWidth = await textEmbeddingWidth(textModelPath);
    if (width !== textWidth)
      throw new Error(
        `the projector ${projectorPath} (${projectorType}) writes rows of ${width} values, but the text model ${textModelPath} takes embeddings of ${textWidth}`,
      );
    const api = loadMtmdApi();
    const errors: string[] = [];
    api.setLogSink((level, text) => {
      if (level === LOG_ERROR) errors.push(text.trim());
    });
    try {
      const modelParams = api.llama_model_default_params();
      modelParams.vocab_only = true;
      modelParams.n_gpu_layers = 0;
      const model = api.llama_model_load_from_file(textModelPath, modelParams);
      if (!model) throw new Error(`the image encoder could not read ${textModelPath}${reason(errors)}`);
      const params = api.mtmd_context_params_default();
      params.use_gpu = false;
      params.print_timings = false;
      params.warmup = false;
      params.n_threads = Math.max(1, options.threads ?? 4);
      const ctx = api.mtmd_init_from_file(projectorPath, model, params);
      if (!ctx) {
        api.llama_model_free(model);
        throw new Error(`cannot use the projector ${projectorPath} with ${textModelPath}${reason(errors)}`);
      }
      if (!api.mtmd_support_vision(ctx)) {
        api.mtmd_free(ctx);
        api.llama_model_free(model);
        throw new Error(`the projector ${projectorPath} has no vision encoder`);
      }
      const info: EncoderInfo = {
        width,
        mrope: api.mtmd_decode_use_mrope(ctx),
        marker: api.mtmd_default_marker(),
        packageName: api.packageName,
      };
      return new MtmdImageEncoder(api, model, ctx, info, options.blocking ?? false);
    } finally {
      api.setLogSink(() => {});
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the image encoder is closed');
  }

  /**
   * Tokenizes a prompt holding `info.marker` once per image, in order. The text runs are the
   * model's token ids (with BOS when `addSpecial`); each image becomes one or more image chunks
   * (idefics3 slices an image into tiles, with marker tokens between them).
   */
  tokenize(prompt: string, images: readonly RgbImage[], addSpecial = true): Promise<EncoderPrompt> {
    return this.serial(async () => {
      this.checkOpen();
      const { api } = this;
      for (const [i, image] of images.entries())
        if (image.width < 1 || image.height < 1 || image.data.byteLength !== image.width * image.height * 3)
          throw new DomainError('validation', `image ${i}: ${image.data.byteLength} bytes for ${image.width} x ${image.height} RGB pixels`);
      const markers = prompt.split(this.info.marker).length - 1;
      if (markers !== images.length)
        throw new DomainError('validation', `the prompt holds ${markers} image markers for ${images.length} images`);
      const bitmaps = images.map((image) => {
        const bitmap = api.mtmd_bitmap_init(image.width, image.height, image.data);
        if (image.id !== undefined) api.mtmd_bitmap_set_id(bitmap, image.id);
        return bitmap;
      });
      const chunks = api.mtmd_input_chunks_init();
      try {
        const text = { text: prompt, text_len: Buffer.byteLength(prompt), add_special: addSpecial, parse_special: true };
        const rc = await this.call<number>(api.mtmd_tokenize, this.ctx, chunks, text, bitmaps, bitmaps.length);
        if (rc === 1)
          throw new DomainError(
            'validation',
            `the prompt holds a different number of image markers than the ${images.length} images given`,
          );
        if (rc !== 0) throw new DomainError('validation', `an image could not be preprocessed (mtmd_tokenize returned ${rc})`);
      } catch (error) {
        api.mtmd_input_chunks_free(chunks);
        throw error;
      } finally {
        for (const bitmap of bitmaps) api.mtmd_bitmap_free(bitmap);
      }
      const list: PromptChunk[] = [];
      const count = Number(api.mtmd_input_chunks_size(chunks));
      for (let index = 0; index < count; index++) {
        const chunk = api.mtmd_input_chunks_get(chunks, index);
        const type = api.mtmd_input_chunk_get_type(chunk);
        if (type === CHUNK_TEXT) {
          const n: [number] = [0];
          const pointer = api.mtmd_input_chunk_get_tokens_text(chunk, n);
          const tokens = n[0] ? Int32Array.from(koffi.decode(pointer, 'int32_t', Number(n[0])) as number[]) : new Int32Array(0);
          list.push({ kind: 'text', tokens });
        } else if (type === CHUNK_IMAGE) {
          list.push({
            kind: 'image',
            tokens: Number(api.mtmd_input_chunk_get_n_tokens(chunk)),
            positions: api.mtmd_input_chunk_get_n_pos(chunk),
            id: api.mtmd_input_chunk_get_id(chunk) || null,
            index,
          });
        } else {
          api.mtmd_input_chunks_free(chunks);
          throw new DomainError('validation', 'only images are supported as media');
        }
      }
      return new EncoderPrompt(list, chunks, (handle) => api.mtmd_input_chunks_free(handle));
    });
  }

  /** Encodes the image chunk `index` of `prompt`, its first row at position `pos0`. */
  encode(prompt: EncoderPrompt, index: number, pos0: number): Promise<EncodedImage> {
    return this.serial(async () => {
      this.checkOpen();
      const { api } = this;
      const described = prompt.chunks[index];
      if (described?.kind !== 'image') throw new Error(`chunk ${index} is not an image`);
      const chunk = api.mtmd_input_chunks_get(prompt.handle, index);
      const rc = await this.call<number>(api.mtmd_encode_chunk, this.ctx, chunk);
      if (rc !== 0) throw new Error(`encoding image chunk ${index} failed (mtmd_encode_chunk returned ${rc})`);
      const { tokens } = described;
      const width = this.info.width;
      const rows = new Float32Array(koffi.view(api.mtmd_get_output_embd(this.ctx), 4 * tokens * width)).slice();
      let positions: Int32Array;
      if (this.info.mrope) {
        positions = new Int32Array(4 * tokens);
        const image = api.mtmd_input_chunk_get_tokens_image(chunk);
        for (let i = 0; i < tokens; i++) {
          const p = api.mtmd_image_tokens_get_decoder_pos(image, pos0, i);
          positions[i] = p.t;
          positions[tokens + i] = p.y;
          positions[2 * tokens + i] = p.x;
          positions[3 * tokens + i] = p.z;
        }
      } else {
        positions = new Int32Array(tokens);
        for (let i = 0; i < tokens; i++) positions[i] = pos0 + i;
      }
      return {
        rows,
        tokens,
        positions,
        next: pos0 + described.positions,
        nonCausal: api.mtmd_decode_use_non_causal(this.ctx, chunk),
      };
    });
  }

  /** Frees the projector and the vocabulary once the encodes under way are done. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      this.closed = true;
      this.api.mtmd_free(this.ctx);
      this.api.llama_model_free(this.model);
    });
  }
}

/** Where each supported projector type's output width is: a tensor and the dimension giving it. */
const OUTPUT_TENSOR: Record<string, { tensor: string; dim: number }> = {
  mlp: { tensor: 'mm.2.weight', dim: 1 },
  idefics3: { tensor: 'mm.model.fc.weight', dim: 1 },
  gemma3: { tensor: 'mm.input_projection.weight', dim: 0 },
  qwen2vl_merger: { tensor: 'mm.2.weight', dim: 1 },
  'qwen2.5vl_merger': { tensor: 'mm.2.weight', dim: 1 },
};

async function readHeader(path: string) {
  try {
    return await gguf(path, { allowLocalFile: true });
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** A projector's type and output width, from its header; an error naming the file when it is not a supported clip GGUF. */
export async function projectorWidth(path: string): Promise<{ width: number; projectorType: string }> {
  const { metadata, tensorInfos } = await readHeader(path);
  const fields = metadata as Record<string, unknown>;
  if (fields['general.architecture'] !== 'clip')
    throw new Error(`${path} is not a projector (architecture ${String(fields['general.architecture'])})`);
  const projectorType = String(fields['clip.projector_type'] ?? fields['clip.vision.projector_type'] ?? '');
  const output = OUTPUT_TENSOR[projectorType];
  if (!output)
    throw new Error(`${path}: projector type "${projectorType}" is not supported (supported: ${Object.keys(OUTPUT_TENSOR).join(', ')})`);
  const info = tensorInfos.find((tensor) => tensor.name === output.tensor);
  if (!info) throw new Error(`${path}: the ${projectorType} projector has no ${output.tensor}`);
  return { width: Number(info.shape[output.dim]), projectorType };
}

async function textEmbeddingWidth(path: string): Promise<number> {
  const fields = (await readHeader(path)).metadata as Record<string, unknown>;
  const width = fields[`${String(fields['general.architecture'])}.embedding_length`];
  if (width === undefined) throw new Error(`${path} has no embedding width`);
  return Number(width);
}

const reason = (errors: readonly string[]) => (errors.length ? `: ${errors.join(' ')}` : '');
