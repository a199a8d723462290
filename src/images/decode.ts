// Encoded image bytes -> packed RGB pixels. The format comes from the magic bytes; the header's
// width and height are checked against the pixel limit before any decoder runs. Decoders are pure
// JavaScript (pngjs, omggif, ./bmp.ts, jpeg-js for CMYK JPEGs) or WebAssembly (@jsquash/jpeg's
// libjpeg-turbo, @jsquash/webp's libwebp), so there is no native build. Transparent pixels are
// composited on white; of an animation (GIF, animated WebP or PNG) only the first frame is kept.
import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.js';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { GifReader } from 'omggif';
import { decodeBmp, type Rgba } from './bmp.js';
import { headerSize, knownUnsupportedFormat, sniffFormat, SUPPORTED_FORMATS, type ImageFormat } from './formats.js';
import { imageError, type ImageLimits } from './limits.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** Packed RGB, 3 bytes per pixel, rows top to bottom. */
  rgb: Uint8Array;
  /** sha256 (hex) of the width, height and pixels: the image's identity for the prefix cache. */
  hash: string;
  /** The format the bytes were in. */
  format: ImageFormat;
}

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP', gif: 'GIF', bmp: 'BMP' };

type WasmDecode = (data: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;

/** A @jsquash decoder, compiled once: in Node its module must be handed the compiled WebAssembly (it cannot fetch it). */
function wasmDecoder(wasmPath: string, load: () => Promise<{ init: unknown; default: unknown }>): () => Promise<WasmDecode> {
  let decoder: Promise<WasmDecode> | undefined;
  return () => {
    decoder ??= (async () => {
      const require = createRequire(import.meta.url);
      const wasm = await WebAssembly.compile(await readFile(require.resolve(wasmPath)));
      const module = await load();
      await (module.init as (wasm: WebAssembly.Module) => Promise<void>)(wasm);
      return module.default as WasmDecode;
    })();
    return decoder;
  };
}

/** libwebp. */
const webp = wasmDecoder('@jsquash/webp/codec/dec/webp_dec.wasm', () => import('@jsquash/webp/decode.js'));
/** libjpeg-turbo (mozjpeg): 4-5 times faster than jpeg-js on a 1920x1080 photo. */
const mozjpeg = wasmDecoder('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm', () => import('@jsquash/jpeg/decode.js'));

/** Whether a JPEG has its end marker after its first scan: libjpeg decodes a cut-short file into grey rows without a word. */
function jpegComplete(b: Uint8Array): boolean {
  for (let i = 2; i + 1 < b.length; i++) {
    if (b[i] === 0xff && b[i + 1] === 0xda) {
      for (let j = b.length - 2; j > i; j--) if (b[j] === 0xff && b[j + 1] === 0xd9) return true;
      return false;
    }
  }
  return false;
}

/** The RIFF chunks of a WebP file: four-character id, payload offset and size. */
function* riffChunks(b: Uint8Array): Generator<{ id: string; at: number; size: number }> {
  let at = 12;
  while (at + 8 <= b.length) {
    const id = String.fromCharCode(...b.subarray(at, at + 4));
    const size = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
    yield { id, at: at + 8, size };
    at += 8 + size + (size & 1);
  }
}

function chunk(id: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length + (payload.length & 1));
  out.set([...id].map((c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function riff(chunks: Uint8Array[]): Uint8Array {
  const body = Buffer.concat([Buffer.from('WEBP'), ...chunks]);
  const out = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
  out.writeUInt32LE(body.length, 4);
  return out;
}

/** An animated WebP's first frame as a still WebP file (libwebp's simple decoder refuses animations), else the bytes unchanged. */
function firstWebpFrame(b: Uint8Array): Uint8Array {
  const chunks = [...riffChunks(b)];
  const frame = chunks.find((c) => c.id === 'ANMF');
  if (!chunks.some((c) => c.id === 'VP8X') || !frame) return b;
  const payload = b.subarray(frame.at, frame.at + frame.size);
  const width = (payload[6] | (payload[7] << 8) | (payload[8] << 16)) + 1;
  const height = (payload[9] | (payload[10] << 8) | (payload[11] << 16)) + 1;
  const inner = [...riffChunks(Buffer.concat([Buffer.alloc(12), payload.subarray(16)]))];
  const alpha = inner.find((c) => c.id === 'ALPH');
  const image = inner.find((c) => c.id === 'VP8 ' || c.id === 'VP8L');
  if (!image) throw new Error('the first frame of the animation has no image data');
  const at = (c: { at: number; size: number }) => payload.subarray(16 + c.at - 12, 16 + c.at - 12 + c.size);
  if (!alpha) return riff([chunk(image.id, at(image))]);
  const header = new Uint8Array(10);
  header[0] = 0x10; // the alpha flag
  header.set([(width - 1) & 0xff, ((width - 1) >> 8) & 0xff, (width - 1) >> 16], 4);
  header.set([(height - 1) & 0xff, ((height - 1) >> 8) & 0xff, (height - 1) >> 16], 7);
  return riff([chunk('VP8X', header), chunk('ALPH', at(alpha)), chunk(image.id, at(image))]);
}

async function decodeRgba(format: ImageFormat, bytes: Uint8Array, limits: ImageLimits, param: string | null): Promise<Rgba> {
  switch (format) {
    case 'jpeg': {
      if (!jpegComplete(bytes)) throw new Error('the JPEG data is cut short');
      try {
        const decode = await mozjpeg();
        const image = await decode(new Uint8Array(bytes).buffer); // a copy: a Buffer may view a shared pool
        return {
          width: image.width,
          height: image.height,
          data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length),
        };
      } catch {
        // libjpeg-turbo does not convert CMYK (and YCCK) to RGB; jpeg-js does.
        return jpeg.decode(bytes, {
          useTArray: true,
          formatAsRGBA: true,
          maxResolutionInMP: limits.maxPixels / 1e6,
          maxMemoryUsageInMB: Math.max(512, Math.ceil((limits.maxPixels * 16) / 2 ** 20)),
        });
      }
    }
    case 'png': {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    case 'gif': {
      const reader = new GifReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (reader.numFrames() < 1) throw new Error('the GIF has no frames');
      // The decoder allocates the frame's own size, which the screen size checked above does not bound.
      const frame = reader.frameInfo(0);
      if (frame.width * frame.height > limits.maxPixels || frame.x + frame.width > reader.width || frame.y + frame.height > reader.height) {
        throw new Error(
          `its first frame (${frame.width}x${frame.height} at ${frame.x},${frame.y}) does not fit its ${reader.width}x${reader.height} screen`,
        );
      }
      const data = new Uint8Array(reader.width * reader.height * 4);
      reader.decodeAndBlitFrameRGBA(0, data);
      return { width: reader.width, height: reader.height, data };
    }
    case 'bmp':
      return decodeBmp(bytes);
    case 'webp': {
      const decode = await webp();
      // libwebp decodes a cut-short file into partly grey pixels without a word: check the lengths first.
      const declared = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)) >>> 0;
      const short = [...riffChunks(bytes)].some((c) => c.at + c.size > bytes.length);
      if (declared + 8 > bytes.length || short) throw new Error('the WebP data is cut short');
      const still = firstWebpFrame(bytes);
      // The bitstream's own size (an animation frame's, or one a VP8X header does not match) is checked too.
      for (const c of riffChunks(still)) {
        if (c.id !== 'VP8 ' && c.id !== 'VP8L') continue;
        const size = headerSize('webp', riff([chunk(c.id, still.subarray(c.at, c.at + c.size))]));
        if (!size) throw new Error('its image data has no valid header');
        if (size.width * size.height > limits.maxPixels) throw pixelLimit(size.width, size.height, limits, param);
      }
      const image = await decode(new Uint8Array(still).buffer); // a copy: a Buffer may view a shared pool
      return {
        width: image.width,
        height: image.height,
        data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length),
      };
    }
  }
}

function pixelLimit(width: number, height: number, limits: ImageLimits, param: string | null): DomainError {
  return imageError(param, `image of ${width}x${height} pixels exceeds --max-image-pixels ${limits.maxPixels}; send a smaller image`);
}

/** RGBA -> RGB, each pixel composited on a white background by its alpha. */
function onWhite(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, o = 0; i < pixels * 4; i += 4, o += 3) {
    const a = rgba[i + 3];
    if (a === 255) {
      rgb[o] = rgba[i];
      rgb[o + 1] = rgba[i + 1];
      rgb[o + 2] = rgba[i + 2];
    } else {
      const white = 255 * (255 - a);
      rgb[o] = Math.round((rgba[i] * a + white) / 255);
      rgb[o + 1] = Math.round((rgba[i + 1] * a + white) / 255);
      rgb[o + 2] = Math.round((rgba[i + 2] * a + white) / 255);
    }
  }
  return rgb;
}

/** The identity of decoded pixels: sha256 over width and height (32-bit big-endian each) and the RGB bytes. */
export function imageHash(width: number, height: number, rgb: Uint8Array): string {
  const size = Buffer.alloc(8);
  size.writeUInt32BE(width, 0);
  size.writeUInt32BE(height, 4);
  return createHash('sha256').update(size).update(rgb).digest('hex');
}

/**
 * Decodes an image's bytes, or throws a validation DomainError naming `param`: an unsupported or
 * unknown format, a header that cannot be read, more pixels than `limits.maxPixels`, or data the
 * decoder refuses.
 */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits, param: string | null = null): Promise<DecodedImage> {
  if (bytes.length > limits.maxBytes) {
    throw imageError(param, `the image is ${bytes.length} bytes, more than --max-image-fetch-size ${limits.maxBytes}`);
  }
  const format = sniffFormat(bytes);
  if (!format) {
    const other = knownUnsupportedFormat(bytes);
    if (other) throw imageError(param, `unsupported image format (${other}); send ${SUPPORTED_FORMATS}`);
    throw imageError(param, `the data is not an image in a supported format (${SUPPORTED_FORMATS})`);
  }
  const name = FORMAT_NAMES[format];
  const size = headerSize(format, bytes);
  if (!size) throw imageError(param, `the ${name} image is invalid: its header is missing or cut short`);
  if (size.width * size.height > limits.maxPixels) throw pixelLimit(size.width, size.height, limits, param);
  let rgba: Rgba;
  try {
    rgba = await decodeRgba(format, bytes, limits, param);
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw imageError(param, `the ${name} image could not be decoded (${reason})`);
  }
  const pixels = rgba.width * rgba.height;
  if (pixels <= 0 || pixels > limits.maxPixels || rgba.data.length < pixels * 4) {
    throw imageError(param, `the ${name} image could not be decoded (its frame is ${rgba.width}x${rgba.height} pixels)`);
  }
  const rgb = onWhite(rgba.data, pixels);
  return { width: rgba.width, height: rgba.height, rgb, hash: imageHash(rgba.width, rgba.height, rgb), format };
}
