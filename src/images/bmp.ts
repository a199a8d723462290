// A small BMP decoder (Windows bitmaps): the npm BMP decoders are unmaintained, and the format is
// simple enough to read here. It reads the core, info, V4 and V5 headers; 1, 4 and 8 bits per
// pixel with a palette, 16 and 32 bits with or without bit-field masks, and 24 bits; rows bottom-up
// or top-down. RLE-compressed and embedded JPEG/PNG bitmaps are refused.

export interface Rgba {
  width: number;
  height: number;
  /** 4 bytes per pixel, rows top to bottom. */
  data: Uint8Array;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

interface Channel {
  mask: number;
  shift: number;
  max: number;
}

function channel(mask: number): Channel {
  mask >>>= 0;
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift, max: mask >>> shift };
}

function read(value: number, c: Channel, fallback: number): number {
  if (c.max === 0) return fallback;
  return Math.round((((value & c.mask) >>> 0) >>> c.shift) * (255 / c.max));
}

export function decodeBmp(b: Uint8Array): Rgba {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 26) throw new Error('the BMP header is cut short');
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const core = headerSize === 12;
  if (!core && headerSize < 40) throw new Error(`unknown BMP header of ${headerSize} bytes`);
  if (b.length < 14 + headerSize) throw new Error('the BMP header is cut short');
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bpp = view.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new Error(`BMP of ${width}x${rawHeight} pixels`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new Error(`BMP with ${bpp} bits per pixel`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new Error(`compressed BMP (compression ${compression}) is not supported; send it uncompressed or as PNG`);
  }

  // Bit-field masks: inside a V2+ header, or the 12 (16 with alpha) bytes after a 40-byte one.
  let red = channel(0);
  let green = channel(0);
  let blue = channel(0);
  let alpha = channel(0);
  if (compression !== BI_RGB) {
    if (headerSize === 40 && b.length < 54 + (compression === BI_ALPHABITFIELDS ? 16 : 12)) throw new Error('the BMP masks are cut short');
    red = channel(view.getUint32(54, true));
    green = channel(view.getUint32(58, true));
    blue = channel(view.getUint32(62, true));
    if (headerSize >= 56 || compression === BI_ALPHABITFIELDS) alpha = channel(view.getUint32(66, true));
  } else if (bpp === 16) {
    [red, green, blue] = [channel(0x7c00), channel(0x03e0), channel(0x001f)];
  } else if (bpp === 32) {
    [red, green, blue] = [channel(0x00ff0000), channel(0x0000ff00), channel(0x000000ff)];
  }

  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const used = core ? 0 : view.getUint32(46, true);
    const count = used > 0 && used <= 1 << bpp ? used : 1 << bpp;
    const start = 14 + headerSize + (compression === BI_BITFIELDS && headerSize === 40 ? 12 : 0);
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count && start + i * entry + 2 < b.length; i++) {
      const at = start + i * entry;
      palette[i * 3] = b[at + 2];
      palette[i * 3 + 1] = b[at + 1];
      palette[i * 3 + 2] = b[at];
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (dataOffset + stride * height > b.length) throw new Error('the BMP pixel data is cut short');
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      let r: number, g: number, bl: number;
      let a = 255;
      if (palette) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)];
        const index = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        [r, g, bl] = [palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2]];
      } else if (bpp === 24) {
        const at = row + x * 3;
        [r, g, bl] = [b[at + 2], b[at + 1], b[at]];
      } else {
        const v = bpp === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
        [r, g, bl] = [read(v, red, 0), read(v, green, 0), read(v, blue, 0)];
        a = read(v, alpha, 255);
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = bl;
      out[o + 3] = a;
    }
  }
  // A 32-bit bitmap whose alpha channel is all zero is an opaque bitmap written with an unused byte.
  if (alpha.max !== 0) {
    let any = false;
    for (let i = 3; i < out.length && !any; i += 4) any = out[i] !== 0;
    if (!any) for (let i = 3; i < out.length; i += 4) out[i] = 255;
  }
  return { width, height, data: out };
}
