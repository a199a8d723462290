// What a request's images may cost: the launcher builds ImageLimits from its flags
// (--max-image-fetch-size, --max-images-per-request, --max-image-pixels, --image-fetch-timeout,
// --allow-private-image-urls) and hands it to whoever reads image parts.
import { DomainError } from '../core/errors.js';

export interface ImageLimits {
  /** Bytes of one image, encoded: the body of a fetch (checked while it streams) or a data URI's payload. */
  maxBytes: number;
  /** Images in one request, over all its messages or its `inputs`. */
  maxImagesPerRequest: number;
  /** Decoded width x height of one image, read from its header before any pixel is decoded. */
  maxPixels: number;
  /** Milliseconds for one fetch, from the first connection to the last byte, redirects included. */
  fetchTimeoutMs: number;
  /** Redirects followed by one fetch; each hop is checked like the first. */
  maxRedirects: number;
  /** Fetch from loopback, private, link-local and other non-public addresses too. */
  allowPrivateUrls: boolean;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxImagesPerRequest: 8,
  maxPixels: 4096 * 4096,
  fetchTimeoutMs: 10_000,
  maxRedirects: 5,
  allowPrivateUrls: false,
};

/** A request error about one image, naming the part at fault in the message (TGI's bodies carry no `param`). */
export function imageError(param: string | null, message: string): DomainError {
  return new DomainError('validation', param ? `${param}: ${message}` : message, param);
}

/** Refuses a request that carries more images than the limit allows. */
export function checkImageCount(count: number, limits: ImageLimits, param: string | null = null): void {
  if (count > limits.maxImagesPerRequest) {
    throw imageError(
      param,
      `the request has ${count} images, more than --max-images-per-request ${limits.maxImagesPerRequest}; send fewer images per request`,
    );
  }
}
