// The HTTP thread's handle on the vision thread, and the tokenizer a request with images validates
// with: its images' bytes are read here (a data URI, or a fetch under the limits), then decoded,
// tokenized with the prompt and encoded on the vision thread.
import { ThreadHost } from '../threads/rpc.js';
import { checkImageCount, type ImageLimits } from '../images/limits.js';
import { imageBytes } from '../images/source.js';
import type { TextTokenizer, TokenizedPrompt } from '../validation/generate.js';
import type { Tokenizer } from '../core/tokenizer.js';
import {
  visionErrors,
  type ImageInput,
  type PreparedPrompt,
  type PrepareParams,
  type VisionInfo,
  type VisionProtocol,
  type VisionWorkerConfig,
} from './vision-protocol.js';

export type { VisionInfo };

/** An image a request gives: its URL or data URI and the field it is in. */
export interface ImageSource {
  url: string;
  param: string | null;
}

/** TGI's images in `inputs`: markdown `![](url)`, each replaced by `marker`. */
export function markdownImages(inputs: string, marker: string): { text: string; sources: ImageSource[] } {
  const sources: ImageSource[] = [];
  const text = inputs.replace(MARKDOWN_IMAGE, (_, url: string) => {
    sources.push({ url, param: 'inputs' });
    return marker;
  });
  return { text, sources };
}

const MARKDOWN_IMAGE = /!\[\]\(([^)]*)\)/g;

/** Where the images of a text are (UTF-8 bytes), found by `pattern`, and the text between them. */
function textAround(
  text: string,
  pattern: RegExp,
): { pieces: { text: string; start: number }[]; images: { start: number; stop: number }[] } {
  const pieces: { text: string; start: number }[] = [];
  const images: { start: number; stop: number }[] = [];
  let last = 0;
  const bytes = (end: number) => Buffer.byteLength(text.slice(0, end));
  for (const match of text.matchAll(pattern)) {
    pieces.push({ text: text.slice(last, match.index), start: bytes(last) });
    images.push({ start: bytes(match.index), stop: bytes(match.index + match[0].length) });
    last = match.index + match[0].length;
  }
  pieces.push({ text: text.slice(last), start: bytes(last) });
  return { pieces, images };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The vision threads: each opens the projector and encodes one request's images at a time. */
export class VisionThread {
  /** Calls under way on each thread. */
  private readonly busy: number[];

  private constructor(
    private readonly hosts: ThreadHost<VisionProtocol>[],
    readonly info: VisionInfo,
    readonly limits: ImageLimits,
  ) {
    this.busy = hosts.map(() => 0);
  }

  /** Opens the projector on `encoders` threads; rejects with the reason it cannot be used. */
  static async start(config: VisionWorkerConfig, encoders = 1): Promise<VisionThread> {
    const started = await Promise.allSettled(
      Array.from({ length: Math.max(1, encoders) }, (_, i) =>
        ThreadHost.start<VisionProtocol>(new URL('./vision-worker-main.js', import.meta.url), {
          label: encoders > 1 ? `vision thread ${i + 1}` : 'the vision thread',
          workerData: config,
          errors: visionErrors,
          unref: true,
        }),
      ),
    );
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    const ok = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (failed) {
      await Promise.all(ok.map(({ host }) => host.terminate()));
      throw failed.reason;
    }
    return new VisionThread(
      ok.map(({ host }) => host),
      ok[0].ready,
      config.limits,
    );
  }

  /** How many images are encoded at once. */
  get encoders(): number {
    return this.hosts.length;
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((host) => host.terminate()));
  }

  /**
   * Prepares a prompt on the thread that saw its first image before (whose cache may hold its
   * rows: a conversation sends its images again every turn), unless another has less to do.
   */
  private async prepare(params: PrepareParams): Promise<PreparedPrompt> {
    let index = params.images.length > 0 ? sampleHash(params.images[0].bytes) % this.hosts.length : 0;
    for (let i = 0; i < this.busy.length; i++) if (this.busy[i] < this.busy[index]) index = i;
    this.busy[index]++;
    try {
      return await this.hosts[index].call('prepare', params);
    } finally {
      this.busy[index]--;
    }
  }

  /**
   * The /tokenize answer of a text with images (TGI's markdown `![](url)` in `inputs` when
   * `chatImages` is absent, else the encoder's marker in a templated chat): the text's tokens with
   * their UTF-8 spans; each image's rows (negative ids, empty text) and the marker tokens its family
   * adds span the image's place in the text. The caller sends a text without images elsewhere.
   */
  async tokenSpans(tokenizer: Tokenizer, text: string, addSpecial: boolean, chatImages?: readonly ImageSource[]): Promise<string> {
    const markdown = chatImages === undefined;
    const found = markdown ? markdownImages(text, this.info.marker) : { text, sources: chatImages };
    const images = await this.read(found.sources, markdown ? 'inputs' : 'messages');
    const { ids } = await this.prepare({ prompt: found.text, images, addSpecial, maxPositions: -1 });
    const { pieces, images: places } = textAround(text, markdown ? MARKDOWN_IMAGE : new RegExp(escapeRegExp(this.info.marker), 'g'));
    return alignSpans(tokenizer, text, pieces, places, Array.from(ids), addSpecial);
  }

  /** Reads every image (fetches run together), checking the count first. */
  async read(sources: readonly ImageSource[], countParam: string | null): Promise<ImageInput[]> {
    checkImageCount(sources.length, this.limits, countParam);
    return Promise.all(
      sources.map(async (source) => ({ bytes: await imageBytes(source.url, this.limits, source.param), param: source.param })),
    );
  }

  /**
   * A tokenizer for one request's prompt, holding the marker once per image of `sources`: the
   * images are read when the prompt is tokenized (after the request's other checks).
   */
  tokenizer(base: TextTokenizer, sources: readonly ImageSource[], countParam: string | null): TextTokenizer {
    let read: Promise<ImageInput[]> | undefined;
    const prepare = async (
      text: string,
      addSpecial: boolean,
      keepLast: number | undefined,
      maxPositions: number,
    ): Promise<TokenizedPrompt> => {
      read ??= this.read(sources, countParam);
      const images = await read;
      return this.prepare({ prompt: text, images, addSpecial, keepLast, maxPositions });
    };
    return {
      vocabSize: base.vocabSize,
      compileGrammar: base.compileGrammar,
      tokenize: async (text, addSpecial) => (await prepare(text, addSpecial, undefined, Number.MAX_SAFE_INTEGER)).ids,
      tokenizePrompt: prepare,
    };
  }
}

/**
 * Lines the encoder's ids up with the text: each text piece's tokens (as this vocabulary splits it)
 * where the ids hold them, with their spans; every other id (image rows, the family's marker
 * tokens) spans the image it belongs to.
 */
function alignSpans(
  tokenizer: Tokenizer,
  text: string,
  pieces: { text: string; start: number }[],
  places: { start: number; stop: number }[],
  ids: number[],
  addSpecial: boolean,
): string {
  const bytes = Buffer.from(text, 'utf8');
  const out: { id: number; text: string; start: number; stop: number }[] = [];
  const own = pieces.map((piece, k) =>
    tokenizer
      .tokenizeWithOffsets(piece.text, addSpecial && k === 0)
      .map((span) => ({ id: span.id, start: span.start + piece.start, stop: span.stop + piece.start })),
  );
  const matchesAt = (index: number, tokens: { id: number }[]) => tokens.every((token, j) => ids[index + j] === token.id);
  let index = 0;
  own.forEach((tokens, k) => {
    if (matchesAt(index, tokens)) {
      for (const token of tokens) out.push({ ...token, text: bytes.subarray(token.start, token.stop).toString('utf8') });
      index += tokens.length;
    }
    const place = places[k];
    if (!place) return;
    // The image's ids: up to where the next piece's tokens stand (the rest, after the last image).
    const next = own[k + 1] ?? [];
    let end = index;
    if (next.length > 0) {
      while (end < ids.length && !(end > index && ids[end] >= 0 && matchesAt(end, next))) end++;
    } else if (k + 1 < places.length) {
      // Another image right after: this one's marker tokens, then its rows.
      while (end < ids.length && ids[end] >= 0) end++;
      while (end < ids.length && ids[end] < 0) end++;
    } else {
      end = ids.length;
    }
    for (; index < end; index++) {
      const id = ids[index];
      out.push({ id, text: id < 0 ? '' : tokenizer.tokenText(id), start: place.start, stop: place.stop });
    }
  });
  for (; index < ids.length; index++) {
    const id = ids[index];
    out.push({ id, text: id < 0 ? '' : tokenizer.tokenText(id), start: bytes.length, stop: bytes.length });
  }
  return JSON.stringify(out);
}

/** A cheap hash of an image's bytes: its length and 64 bytes spread over it. */
function sampleHash(bytes: Uint8Array): number {
  let hash = 0x811c9dc5 ^ bytes.length;
  const step = Math.max(1, Math.floor(bytes.length / 64));
  for (let i = 0; i < bytes.length; i += step) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}
