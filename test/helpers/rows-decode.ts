// Greedy generation below the server: the image encoder cuts a prompt into chunks and encodes the
// images; our libllama decodes the text tokens and the image rows (llama_batch.embd) of the same
// text model on one sequence, then continues greedily. What the server's engine must reproduce.
import assert from 'node:assert/strict';
import koffi from 'koffi';
import { locateLlamaBinaries } from '../../src/engine/llama/library.js';
import type { ContextParams, Pointer } from '../../src/engine/llama/binding.js';
import type { LlamaModel } from '../../src/engine/llama/model.js';
import type { MtmdImageEncoder, RgbImage } from '../../src/vision/encoder.js';

let causalSwitch: ((ctx: Pointer, causal: boolean) => void) | undefined;

/** Gemma 3's image rows attend to each other both ways: llama_set_causal_attn (not among the engine's bindings). */
function setCausalAttention(ctx: Pointer, causal: boolean): void {
  causalSwitch ??= koffi.load(locateLlamaBinaries().llamaLib).func('void llama_set_causal_attn(void *ctx, bool causal)') as (
    ctx: Pointer,
    causal: boolean,
  ) => void;
  causalSwitch(ctx, causal);
}

export interface RowsAnswer {
  /** The generated text, pieces concatenated as a server streams them (leading space kept). */
  text: string;
  promptTokens: number;
}

/** Greedy continuation of `prompt` (mtmd's marker once per image), up to `maxTokens` tokens. */
export async function greedyFromRows(
  model: LlamaModel,
  encoder: MtmdImageEncoder,
  prompt: string,
  images: RgbImage[],
  maxTokens: number,
): Promise<RowsAnswer> {
  const { api } = model;
  const width = encoder.info.width;
  const capacity = 1024;
  const params = api.llama_context_default_params() as ContextParams;
  params.n_ctx = capacity;
  params.n_batch = capacity;
  params.n_ubatch = capacity;
  params.n_seq_max = 1;
  params.n_threads = 1;
  params.n_threads_batch = 1;
  params.no_perf = true;
  const ctx = api.llama_init_from_model(model.handle, params) as Pointer | null;
  assert.ok(ctx, 'llama_init_from_model');
  const token = api.allocBytes(4 * capacity);
  const embd = api.allocBytes(4 * capacity * width);
  const pos = api.allocBytes(4 * 4 * capacity); // four planes for M-RoPE rows
  const nSeq = api.allocBytes(4 * capacity);
  const seq = api.allocBytes(4 * capacity);
  const seqPtrs = api.allocBytes(8 * capacity);
  const logits = api.allocBytes(capacity);
  new Int32Array(nSeq.buffer).fill(1);
  const pointers = new BigUint64Array(seqPtrs.buffer);
  for (let i = 0; i < capacity; i++) pointers[i] = seq.ptr + BigInt(4 * i);
  const outputs = new Int8Array(logits.buffer);
  const decode = (n: number, rows: boolean): number => {
    outputs.fill(0, 0, n);
    outputs[n - 1] = 1;
    const status = api.llama_decode(ctx, {
      n_tokens: n,
      token: rows ? null : token.ptr,
      embd: rows ? embd.ptr : null,
      pos: pos.ptr,
      n_seq_id: nSeq.ptr,
      seq_id: seqPtrs.ptr,
      logits: logits.ptr,
    });
    assert.equal(status, 0, 'llama_decode');
    const vocab = model.vocabulary.vocabSize;
    const row = new Float32Array(api.view(api.llama_get_logits(ctx) as Pointer, 4 * vocab));
    let best = 0;
    for (let k = 1; k < vocab; k++) if (row[k] > row[best]) best = k;
    return best;
  };
  try {
    const tokenized = await encoder.tokenize(prompt, images);
    let next = 0;
    let last = -1;
    let promptTokens = 0;
    try {
      for (const chunk of tokenized.chunks) {
        if (chunk.kind === 'text') {
          if (chunk.tokens.length === 0) continue;
          new Int32Array(token.buffer).set(chunk.tokens);
          for (let i = 0; i < chunk.tokens.length; i++) new Int32Array(pos.buffer)[i] = next + i;
          last = decode(chunk.tokens.length, false);
          next += chunk.tokens.length;
          promptTokens += chunk.tokens.length;
        } else {
          const encoded = await encoder.encode(tokenized, chunk.index, next);
          new Float32Array(embd.buffer).set(encoded.rows);
          new Int32Array(pos.buffer).set(encoded.positions);
          if (encoded.nonCausal) setCausalAttention(ctx, false);
          last = decode(encoded.tokens, true);
          if (encoded.nonCausal) setCausalAttention(ctx, true);
          next = encoded.next;
          promptTokens += encoded.tokens;
        }
      }
    } finally {
      tokenized.dispose();
    }
    const bytes: number[] = [];
    for (let i = 0; i < maxTokens && !model.vocabulary.isEndOfGeneration(last); i++) {
      bytes.push(...model.vocabulary.tokenBytes(last));
      if (i === maxTokens - 1) break;
      new Int32Array(token.buffer)[0] = last;
      new Int32Array(pos.buffer)[0] = next++;
      last = decode(1, false);
    }
    return { text: new TextDecoder().decode(new Uint8Array(bytes)), promptTokens };
  } finally {
    api.llama_free(ctx);
  }
}
