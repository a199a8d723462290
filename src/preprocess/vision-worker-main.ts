// The vision thread: decodes a request's images, tokenizes its prompt with them (each projector
// family's marker tokens and slices) and encodes the images into the rows the text model takes.
// It runs at a lower CPU priority than the engine thread, so that encoding an image takes the
// cores the running streams leave idle rather than slowing their steps.
import { workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { gguf } from '@huggingface/gguf';
import { decodeImage } from '../images/decode.js';
import { DomainError } from '../core/errors.js';
import { imagePlaceholderIds, type PromptImage } from '../core/request.js';
import { MtmdImageEncoder, type RgbImage } from '../vision/encoder.js';
import { ThreadPort, Transfer } from '../threads/rpc.js';
import { visionErrors, type PreparedPrompt, type PrepareParams, type VisionProtocol, type VisionWorkerConfig } from './vision-protocol.js';

const port = new ThreadPort<VisionProtocol>(visionErrors);
const config = workerData as VisionWorkerConfig;

/** Lowers this thread's priority (Linux: the nice value is a thread's own). */
function lowerPriority(nice: number): void {
  if (process.platform !== 'linux' || nice <= 0) return;
  try {
    const libc = koffi.load('libc.so.6');
    const setpriority = libc.func('int setpriority(int which, uint32_t who, int prio)') as (w: number, who: number, p: number) => number;
    setpriority(0, 0, nice);
  } catch {
    // Not fatal: encoding then competes with the engine on equal terms.
  }
}

interface Encoded {
  rows: Float32Array;
  nonCausal: boolean;
  planes?: Int32Array;
}

/** Encoded rows of recent images, by image hash and chunk, so that a conversation resending its images does not encode them again. */
class EncodedCache {
  private readonly entries = new Map<string, Encoded>();
  private bytes = 0;

  constructor(private readonly capacity: number) {}

  get(key: string) {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(key: string, value: Encoded): void {
    if (value.rows.byteLength > this.capacity) return;
    this.entries.set(key, value);
    this.bytes += value.rows.byteLength;
    for (const [old, entry] of this.entries) {
      if (this.bytes <= this.capacity) break;
      this.entries.delete(old);
      this.bytes -= entry.rows.byteLength;
    }
  }
}

/** The projector's type and the side of the images it takes, from its header (one read). */
async function projectorHeader(path: string): Promise<{ projectorType: string; imageSize: number }> {
  const fields = (await gguf(path, { allowLocalFile: true })).metadata as Record<string, unknown>;
  return {
    projectorType: String(fields['clip.projector_type'] ?? fields['clip.vision.projector_type'] ?? ''),
    imageSize: Number(fields['clip.vision.image_size'] ?? 0),
  };
}

async function start(): Promise<void> {
  lowerPriority(config.nice);
  let encoder: MtmdImageEncoder;
  let header: { projectorType: string; imageSize: number };
  try {
    encoder = await MtmdImageEncoder.open(config.modelPath, config.projectorPath, { blocking: true, threads: 1 });
    header = await projectorHeader(config.projectorPath);
  } catch (error) {
    port.fail(error);
    return;
  }
  // What an image costs: a grey square of the projector's size, tokenized and encoded once.
  const { projectorType, imageSize } = header;
  const side = Math.max(1, imageSize || 336);
  const probe = await encoder.tokenize(
    encoder.info.marker,
    [{ width: side, height: side, data: new Uint8Array(side * side * 3).fill(128) }],
    false,
  );
  let tokensPerImage = 0;
  let nonCausal = false;
  for (const chunk of probe.chunks) {
    if (chunk.kind !== 'image') continue;
    tokensPerImage += chunk.tokens;
    nonCausal ||= (await encoder.encode(probe, chunk.index, 0)).nonCausal;
  }
  probe.dispose();
  const cache = new EncodedCache(128 * 1024 * 1024);

  async function prepare(params: PrepareParams): Promise<PreparedPrompt> {
    const images: RgbImage[] = [];
    for (const input of params.images) {
      const decoded = await decodeImage(input.bytes, config.limits, input.param);
      images.push({ width: decoded.width, height: decoded.height, data: decoded.rgb, id: decoded.hash });
    }
    const prompt = await encoder.tokenize(params.prompt, images, params.addSpecial);
    try {
      const ids: number[] = [];
      const spans: { start: number; tokens: number; positions: number; index: number; key: string }[] = [];
      const seen = new Map<string, number>();
      for (const chunk of prompt.chunks) {
        if (chunk.kind === 'text') {
          for (const id of chunk.tokens) ids.push(id);
          continue;
        }
        const id = chunk.id ?? `chunk${chunk.index}`;
        const ordinal = seen.get(id) ?? 0;
        seen.set(id, ordinal + 1);
        const key = `${id}:${ordinal}`;
        spans.push({ start: ids.length, tokens: chunk.tokens, positions: chunk.positions, index: chunk.index, key });
        for (const placeholder of imagePlaceholderIds(key, chunk.tokens)) ids.push(placeholder);
      }
      let cut = 0;
      if (params.keepLast !== undefined && ids.length > params.keepLast) {
        cut = ids.length - params.keepLast;
        const split = spans.find((span) => span.start < cut && cut < span.start + span.tokens);
        if (split)
          throw new DomainError(
            'validation',
            `\`truncate\` ${params.keepLast} would cut an image in two (its rows are positions ${split.start - cut} to ${split.start + split.tokens - 1 - cut} of the kept input); keep the whole image or none of it`,
            'truncate',
          );
      }
      const kept = Int32Array.from(ids.slice(cut));
      const keptSpans = spans.filter((span) => span.start >= cut);
      const out: PromptImage[] = [];
      const encode = kept.length <= params.maxPositions;
      for (const span of keptSpans) {
        let encoded = encode ? cache.get(span.key) : undefined;
        if (encode && !encoded) {
          // At position 0: the engine moves the M-RoPE planes to where the image stands.
          const result = await encoder.encode(prompt, span.index, 0);
          encoded = { rows: result.rows, nonCausal: result.nonCausal, ...(encoder.info.mrope ? { planes: result.positions } : {}) };
          cache.set(span.key, encoded);
        }
        out.push({
          start: span.start - cut,
          tokens: span.tokens,
          positions: span.positions,
          rows: encoded ? encoded.rows : new Float32Array(0),
          nonCausal: encoded?.nonCausal ?? nonCausal,
          ...(encoded?.planes ? { planes: encoded.planes } : {}),
        });
      }
      const result: PreparedPrompt = { ids: kept, images: out };
      return new Transfer(result, [kept.buffer as ArrayBuffer]) as unknown as PreparedPrompt;
    } finally {
      prompt.dispose();
    }
  }

  // One request at a time: the encoder is not shared between calls.
  let queue: Promise<unknown> = Promise.resolve();
  port.serve(
    {
      marker: encoder.info.marker,
      projectorType,
      imageSize: side,
      tokensPerImage,
      nonCausal,
      mrope: encoder.info.mrope,
      packageName: encoder.info.packageName,
    },
    {
      prepare: (params) => {
        const run = queue.then(
          () => prepare(params),
          () => prepare(params),
        );
        queue = run.catch(() => undefined);
        return run;
      },
    },
  );
}

void start();
