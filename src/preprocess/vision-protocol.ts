// What the HTTP thread and the vision thread say to each other: the thread turns a prompt holding
// the image marker once per image, and the images' bytes, into token ids (a placeholder id per
// image row) and the images' rows.
import { DomainError } from '../core/errors.js';
import type { PromptImage } from '../core/request.js';
import type { ImageLimits } from '../images/limits.js';
import { ErrorCodec } from '../threads/error-codec.js';

export interface VisionWorkerConfig {
  modelPath: string;
  projectorPath: string;
  limits: ImageLimits;
  /** Nice value of the thread (Linux): above the engine's, so that encoding yields to running streams. */
  nice: number;
}

/** What the vision thread reports once the projector is open. */
export interface VisionInfo {
  /** The text the prompt holds where an image goes. */
  marker: string;
  projectorType: string;
  /** The square side, in pixels, the projector takes an image at. */
  imageSize: number;
  /** Rows a square image of `imageSize` costs (idefics3: with its slices). */
  tokensPerImage: number;
  /** The rows are decoded with causal attention off (Gemma 3). */
  nonCausal: boolean;
  /** The rows take M-RoPE positions (Qwen2-VL family). */
  mrope: boolean;
  /** The package that encodes images. */
  packageName: string;
}

export interface ImageInput {
  bytes: Uint8Array;
  /** The request field it came from, for error messages (`messages.0.content.1.image_url`). */
  param: string | null;
}

export interface PrepareParams {
  prompt: string;
  images: ImageInput[];
  addSpecial: boolean;
  /** Keep only the last this many positions (TGI's `truncate`); an image cut in two is an error. */
  keepLast?: number;
  /** When the kept positions are more than this, nothing is encoded (the request fails on its length). */
  maxPositions: number;
}

export interface PreparedPrompt {
  ids: Int32Array;
  /** The prompt's images, rows given unless the prompt was too long to encode. */
  images: PromptImage[];
}

export type VisionProtocol = {
  calls: { prepare: { params: PrepareParams; result: PreparedPrompt } };
  toThread: Record<string, never>;
  toHost: Record<string, never>;
  ready: VisionInfo;
};

export const visionErrors = new ErrorCodec([DomainError]);
