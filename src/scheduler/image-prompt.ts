// Prompts with images: the runs their positions fall into, and where a cached prefix may end.
//
// The scheduler computes every prompt the same way whatever is cached (see slots.ts): with
// images, a prompt is cut into segments (runs of text, each image's rows, and the last position,
// whose logits are wanted). A segment of at least a tile's length is computed in chunks of at
// least a tile (llama.cpp's tiled attention kernel), a shorter one query by query, so how a
// position is computed depends only on the prompt. A Gemma 3 image (non-causal) is one chunk.
import type { PromptImage } from '../core/request.js';
import type { ReusePoint } from './slots.js';

export interface Segment {
  start: number;
  end: number;
  /** Set when the segment is an image's rows. */
  image?: PromptImage;
}

/** The segments of a prompt of `length` positions holding `images` (in order, within the prompt). */
export function promptSegments(length: number, images: readonly PromptImage[]): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  const text = (end: number) => {
    if (end > at) segments.push({ start: at, end });
    at = Math.max(at, end);
  };
  for (const image of images) {
    text(image.start);
    segments.push({ start: image.start, end: image.start + image.tokens, image });
    at = image.start + image.tokens;
  }
  text(length);
  // The last position is a segment of its own (computed alone, for its logits), unless it ends an
  // image that must be computed whole.
  const last = segments[segments.length - 1];
  if (last && last.end - last.start > 1 && !(last.image && wholeImage(last.image))) {
    last.end = length - 1;
    segments.push({ start: length - 1, end: length, image: last.image });
  }
  return segments;
}

/**
 * Where a cached prefix of such a prompt may end: after an image (every position before it is
 * computed as this prompt computes it, whichever prompt computed it), or at the first image when
 * the text before it is one tiled run (as a text prompt's body is computed).
 */
export function reusePoints(length: number, images: readonly PromptImage[], tile: number): ReusePoint[] {
  const points: ReusePoint[] = [];
  const first = images[0];
  if (first && tile > 0 && first.start >= tile) points.push({ at: first.start, tiledOnly: true });
  for (const image of images) {
    const end = image.start + image.tokens;
    if (end < length) points.push({ at: end, tiledOnly: false });
  }
  return points;
}

/**
 * An image decoded in one entry: a non-causal one (its rows see each other), or one with M-RoPE
 * positions (its cells all hold the image's position, so it cannot be cut).
 */
export function wholeImage(image: PromptImage): boolean {
  return image.nonCausal || image.planes !== undefined;
}

/** The position of prompt index `index`: images with M-RoPE take fewer positions than rows. */
export function positionOf(images: readonly PromptImage[] | undefined, index: number): number {
  let position = index;
  for (const image of images ?? []) if (image.start + image.tokens <= index) position -= image.tokens - image.positions;
  return position;
}

/** Leading cells of such a prompt that text prompts may share: the text before the first image, when tiled. */
export function tiledPrefix(images: readonly PromptImage[], tile: number): number {
  const first = images[0];
  return first && tile > 0 && first.start >= tile ? first.start : 0;
}
