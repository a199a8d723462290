// The HTTP thread's handle on the vision thread, and the tokenizer a request with images validates
// with: its images' bytes are read here (a data URI, or a fetch under the limits), then decoded,
// tokenized with the prompt and encoded on the vision thread.
import { ThreadHost } from '../threads/rpc.js';
import { checkImageCount, type ImageLimits } from '../images/limits.js';
import { imageBytes } from '../images/source.js';
import type { TextTokenizer, TokenizedPrompt } from '../validation/generate.js';
import { visionErrors, type ImageInput, type VisionInfo, type VisionProtocol, type VisionWorkerConfig } from './vision-protocol.js';

export type { VisionInfo };

/** An image a request gives: its URL or data URI and the field it is in. */
export interface ImageSource {
  url: string;
  param: string | null;
}

/** TGI's images in `inputs`: markdown `![](url)`, each replaced by `marker`. */
export function markdownImages(inputs: string, marker: string): { text: string; sources: ImageSource[] } {
  const sources: ImageSource[] = [];
  const text = inputs.replace(/!\[\]\(([^)]*)\)/g, (_, url: string) => {
    sources.push({ url, param: 'inputs' });
    return marker;
  });
  return { text, sources };
}

export class VisionThread {
  /** Milliseconds of the last encodes, for the figures (newest last, at most 64). */
  readonly encodeTimes: number[] = [];

  private constructor(
    private readonly host: ThreadHost<VisionProtocol>,
    readonly info: VisionInfo,
    readonly limits: ImageLimits,
  ) {}

  /** Opens the projector on a thread of its own; rejects with the reason it cannot be used. */
  static async start(config: VisionWorkerConfig): Promise<VisionThread> {
    const { host, ready } = await ThreadHost.start<VisionProtocol>(new URL('./vision-worker-main.js', import.meta.url), {
      label: 'the vision thread',
      workerData: config,
      errors: visionErrors,
      unref: true,
    });
    return new VisionThread(host, ready, config.limits);
  }

  async close(): Promise<void> {
    await this.host.terminate();
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
      const prepared = await this.host.call('prepare', { prompt: text, images, addSpecial, keepLast, maxPositions });
      if (prepared.images.length > 0) {
        this.encodeTimes.push(prepared.encodeMs);
        if (this.encodeTimes.length > 64) this.encodeTimes.shift();
      }
      return prepared;
    };
    return {
      vocabSize: base.vocabSize,
      compileGrammar: base.compileGrammar,
      tokenize: async (text, addSpecial) => (await prepare(text, addSpecial, undefined, Number.MAX_SAFE_INTEGER)).ids,
      tokenizePrompt: prepare,
    };
  }
}
