// What a request gives as an image (a data URI or an http(s) URL) -> decoded RGB pixels.
import { decodeImage, type DecodedImage } from './decode.js';
import { fetchImage } from './fetch.js';
import { imageError, type ImageLimits } from './limits.js';

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** The bytes of a `data:` URI. Only base64 payloads are taken; the declared media type is ignored (the bytes are sniffed). */
export function dataUriBytes(uri: string, limits: ImageLimits, param: string | null = null): Uint8Array {
  const comma = uri.indexOf(',');
  if (!/^data:/i.test(uri) || comma < 0) throw imageError(param, 'the data URI is malformed; expected data:image/png;base64,...');
  const header = uri.slice(5, comma).toLowerCase();
  if (!header.split(';').includes('base64')) {
    throw imageError(param, 'the data URI must be base64-encoded (data:image/png;base64,...)');
  }
  let payload = uri.slice(comma + 1);
  if (payload.includes('%')) {
    try {
      payload = decodeURIComponent(payload);
    } catch {
      throw imageError(param, 'the data URI has invalid base64 data');
    }
  }
  payload = payload.replace(/\s+/g, '');
  if (!BASE64.test(payload) || payload.length % 4 === 1) throw imageError(param, 'the data URI has invalid base64 data');
  if (payload.length === 0) throw imageError(param, 'the data URI is empty');
  const size = Math.floor((payload.length * 3) / 4);
  if (size - 2 > limits.maxBytes) {
    throw imageError(param, `the image is ${size} bytes, more than --max-image-fetch-size ${limits.maxBytes}`);
  }
  return Buffer.from(payload, payload.includes('-') || payload.includes('_') ? 'base64url' : 'base64');
}

/**
 * Loads one image: decodes a `data:` URI, or fetches an http(s) URL under the limits, then
 * decodes it. Every failure is a validation DomainError whose message and `param` name the part.
 */
export async function loadImage(source: string, limits: ImageLimits, param: string | null = null): Promise<DecodedImage> {
  return decodeImage(await imageBytes(source, limits, param), limits, param);
}

/** An image's encoded bytes: a `data:` URI's payload, or an http(s) URL fetched under the limits. */
export async function imageBytes(source: string, limits: ImageLimits, param: string | null = null): Promise<Uint8Array> {
  const text = source.trim();
  if (/^data:/i.test(text)) return dataUriBytes(text, limits, param);
  if (/^https?:\/\//i.test(text)) return fetchImage(text, limits, param);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text);
  if (scheme) throw imageError(param, `image URLs must be http(s) or data URIs, not ${scheme[1].toLowerCase()}:`);
  throw imageError(param, 'the image must be an http(s) URL or a data URI (data:image/png;base64,...)');
}
