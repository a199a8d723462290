// Small test images written with the decoders' own encoders (pngjs, jpeg-js, omggif, libwebp) or
// by hand (BMP), from one RGBA picture, and a local HTTP server that serves them.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { GifWriter } from 'omggif';

export interface Picture {
  width: number;
  height: number;
  /** 4 bytes per pixel. */
  rgba: Uint8Array;
}

/** A picture whose every pixel differs: red by column, green by row, blue by both; opaque unless `alpha` says. */
export function picture(width: number, height: number, alpha = (_x: number, _y: number) => 255): Picture {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba.set([(x * 37) & 0xff, (y * 53) & 0xff, (x * 11 + y * 7) & 0xff, alpha(x, y)], o);
    }
  }
  return { width, height, rgba };
}

/** The picture's RGB as a decoder should give it: alpha composited on white. */
export function expectedRgb(p: Picture): Uint8Array {
  const rgb = new Uint8Array(p.width * p.height * 3);
  for (let i = 0; i < p.width * p.height; i++) {
    const a = p.rgba[i * 4 + 3];
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round((p.rgba[i * 4 + c] * a + 255 * (255 - a)) / 255);
  }
  return rgb;
}

export function png(p: Picture): Buffer {
  const image = new PNG({ width: p.width, height: p.height });
  image.data.set(p.rgba);
  return PNG.sync.write(image);
}

export function jpg(p: Picture, quality = 95): Buffer {
  return jpeg.encode({ data: Buffer.from(p.rgba), width: p.width, height: p.height }, quality).data;
}

/** A 24-bit (or 32-bit with alpha, BI_BITFIELDS and a V4 header) bitmap, bottom-up unless `topDown`. */
export function bmp(p: Picture, { bits = 24, topDown = false }: { bits?: 24 | 32; topDown?: boolean } = {}): Buffer {
  const header = bits === 32 ? 108 : 40;
  const stride = Math.floor((bits * p.width + 31) / 32) * 4;
  const offset = 14 + header;
  const out = Buffer.alloc(offset + stride * p.height);
  out.write('BM');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(offset, 10);
  out.writeUInt32LE(header, 14);
  out.writeInt32LE(p.width, 18);
  out.writeInt32LE(topDown ? -p.height : p.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bits, 28);
  if (bits === 32) {
    out.writeUInt32LE(3, 30); // BI_BITFIELDS
    out.writeUInt32LE(0x00ff0000, 54);
    out.writeUInt32LE(0x0000ff00, 58);
    out.writeUInt32LE(0x000000ff, 62);
    out.writeUInt32LE(0xff000000, 66);
  }
  for (let y = 0; y < p.height; y++) {
    const row = offset + (topDown ? y : p.height - 1 - y) * stride;
    for (let x = 0; x < p.width; x++) {
      const s = (y * p.width + x) * 4;
      const d = row + x * (bits / 8);
      out[d] = p.rgba[s + 2];
      out[d + 1] = p.rgba[s + 1];
      out[d + 2] = p.rgba[s];
      if (bits === 32) out[d + 3] = p.rgba[s + 3];
    }
  }
  return out;
}

/** A GIF of the picture's colours (at most 256; alpha 0 becomes the transparent index), then a second, different frame. */
export function gif(p: Picture): Buffer {
  const colours: number[] = [];
  const indices: number[] = [];
  let transparent: number | undefined;
  for (let i = 0; i < p.width * p.height; i++) {
    if (p.rgba[i * 4 + 3] === 0) {
      if (transparent === undefined) {
        transparent = colours.length;
        colours.push(0);
      }
      indices.push(transparent);
      continue;
    }
    const rgb = (p.rgba[i * 4] << 16) | (p.rgba[i * 4 + 1] << 8) | p.rgba[i * 4 + 2];
    let index = colours.indexOf(rgb);
    if (index < 0) index = colours.push(rgb) - 1;
    indices.push(index);
  }
  if (colours.length > 256) throw new Error('too many colours for a GIF');
  let size = 2;
  while (size < colours.length) size *= 2;
  const palette = [...colours, ...new Array(size - colours.length).fill(0)];
  const buffer = Buffer.alloc(1024 + p.width * p.height * 4);
  const writer = new GifWriter(buffer, p.width, p.height, { palette, loop: 0 });
  writer.addFrame(0, 0, p.width, p.height, indices, transparent === undefined ? {} : { transparent });
  writer.addFrame(0, 0, p.width, p.height, new Array(p.width * p.height).fill(1 % size));
  return buffer.subarray(0, writer.end());
}

let webpEncoder: Promise<(data: unknown, options: object) => Promise<ArrayBuffer>> | undefined;

/** A lossless WebP of the picture, written by libwebp's encoder (the same package the server decodes with). */
export async function webp(p: Picture): Promise<Buffer> {
  webpEncoder ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasm = await WebAssembly.compile(await readFile(require.resolve('@jsquash/webp/codec/enc/webp_enc_simd.wasm')));
    const module = await import('@jsquash/webp/encode.js');
    await (module.init as unknown as (wasm: WebAssembly.Module) => Promise<void>)(wasm);
    return module.default as unknown as (data: unknown, options: object) => Promise<ArrayBuffer>;
  })();
  const encode = await webpEncoder;
  const data = { data: new Uint8ClampedArray(p.rgba), width: p.width, height: p.height };
  return Buffer.from(await encode(data, { lossless: 1, exact: 1, quality: 100 }));
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server on 127.0.0.1 answering with `handler`; `close` ends it and every connection left open. */
export async function imageServer(handler: Handler): Promise<{ url: (path: string) => string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An animated WebP (VP8X + ANIM + one ANMF per frame) of still lossless WebPs of the same size, assembled by hand. */
export function animatedWebp(frames: Buffer[], width: number, height: number): Buffer {
  const chunk = (id: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(id);
    head.writeUInt32LE(payload.length, 4);
    return Buffer.concat([head, payload, Buffer.alloc(payload.length & 1)]);
  };
  const u24 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);
  const vp8x = Buffer.concat([Buffer.from([0x12, 0, 0, 0]), u24(width - 1), u24(height - 1)]);
  const anim = Buffer.from([255, 255, 255, 255, 0, 0]);
  const anmf = frames.map((still) =>
    chunk('ANMF', Buffer.concat([u24(0), u24(0), u24(width - 1), u24(height - 1), u24(100), Buffer.from([0]), still.subarray(12)])),
  );
  const body = Buffer.concat([Buffer.from('WEBP'), chunk('VP8X', vp8x), chunk('ANIM', anim), ...anmf]);
  const head = Buffer.alloc(8);
  head.write('RIFF');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}
