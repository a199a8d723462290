// Image bytes -> RGB pixels: each supported format decodes to the picture it was written from
// (alpha on white, first frame of an animation), and bad bytes, unsupported formats, oversized
// headers and broken data URIs are validation errors that name the part.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS } from '../../src/cli/options.js';
import { PNG } from 'pngjs';
import { DomainError } from '../../src/core/errors.js';
import { decodeImage, imageHash } from '../../src/images/decode.js';
import { DEFAULT_IMAGE_LIMITS, checkImageCount, type ImageLimits } from '../../src/images/limits.js';
import { dataUriBytes, loadImage } from '../../src/images/source.js';
import { animatedWebp, bmp, expectedRgb, gif, jpg, picture, png, webp } from '../helpers/images.js';

const PARAM = 'messages[0].content[1].image_url';
const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS };

async function refused(promise: Promise<unknown> | (() => unknown), pattern: RegExp, param = PARAM): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === 'function' ? promise() : promise),
    (error: unknown) => {
      assert.ok(error instanceof DomainError, `expected a DomainError, got ${String(error)}`);
      assert.equal(error.kind, 'validation');
      assert.equal(error.param, param);
      assert.ok(error.message.startsWith(`${param}: `), error.message);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

const dataUri = (bytes: Uint8Array, type = 'image/png') => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;

describe('decoding each format', () => {
  const opaque = picture(7, 5);
  const translucent = picture(6, 4, (x, y) => [0, 128, 255][(x + y) % 3]);

  it('PNG, with alpha composited on white', async () => {
    for (const p of [opaque, translucent]) {
      const image = await decodeImage(png(p), limits, PARAM);
      assert.deepEqual([image.width, image.height, image.format], [p.width, p.height, 'png']);
      assert.deepEqual(image.rgb, expectedRgb(p));
    }
    // A fully transparent pixel is white; half-transparent black is mid grey.
    const image = await decodeImage(png(picture(2, 1, (x) => (x === 0 ? 0 : 128))), limits);
    assert.deepEqual([...image.rgb.subarray(0, 3)], [255, 255, 255]);
    assert.deepEqual(
      [...image.rgb.subarray(3, 6)],
      [37, 0, 11].map((c) => Math.round((c * 128 + 255 * 127) / 255)),
    );
  });

  it('PNG of 16 bits per channel and of grey levels', async () => {
    const deep = new PNG({ width: 2, height: 1 });
    deep.data = Buffer.from(new Uint16Array([65535, 0, 32768, 65535, 1000, 2000, 3000, 65535]).buffer);
    const bytes = PNG.sync.write(deep, { bitDepth: 16, colorType: 2, inputColorType: 6, inputHasAlpha: true });
    assert.deepEqual([bytes[24], bytes[25]], [16, 2]); // IHDR: 16 bits, RGB
    assert.deepEqual([...(await decodeImage(bytes, limits)).rgb], [255, 0, 128, 4, 8, 12]);
    const grey = new PNG({ width: 3, height: 1 });
    grey.data = Buffer.from([0, 128, 255]);
    const greyBytes = PNG.sync.write(grey, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
    assert.deepEqual([...(await decodeImage(greyBytes, limits)).rgb], [0, 0, 0, 128, 128, 128, 255, 255, 255]);
  });

  it('JPEG, within its lossy rounding', async () => {
    const flat = { width: 16, height: 16, rgba: new Uint8Array(16 * 16 * 4).fill(0) };
    for (let i = 0; i < 256; i++) flat.rgba.set([200, 40, 90, 255], i * 4);
    const image = await decodeImage(jpg(flat), limits, PARAM);
    assert.deepEqual([image.width, image.height, image.format], [16, 16, 'jpeg']);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = image.rgb.subarray(i * 3, i * 3 + 3);
      assert.ok(Math.abs(r - 200) <= 3 && Math.abs(g - 40) <= 3 && Math.abs(b - 90) <= 3, `pixel ${i}: ${r},${g},${b}`);
    }
  });

  it('WebP (lossless), with alpha on white', async () => {
    for (const p of [opaque, translucent]) {
      const image = await decodeImage(await webp(p), limits, PARAM);
      assert.deepEqual([image.width, image.height, image.format], [p.width, p.height, 'webp']);
      assert.deepEqual(image.rgb, expectedRgb(p));
    }
  });

  it('animated WebP: the first frame', async () => {
    const first = picture(6, 4);
    const second = picture(6, 4, () => 0);
    const image = await decodeImage(animatedWebp([await webp(first), await webp(second)], 6, 4), limits, PARAM);
    assert.deepEqual([image.width, image.height, image.format], [6, 4, 'webp']);
    assert.deepEqual(image.rgb, expectedRgb(first));
    const alone = await decodeImage(animatedWebp([await webp(second), await webp(first)], 6, 4), limits, PARAM);
    assert.deepEqual(alone.rgb, expectedRgb(second));
  });

  it('GIF: the first frame, transparency on white', async () => {
    const p = picture(5, 3, (x, y) => (x === 2 && y === 1 ? 0 : 255));
    const image = await decodeImage(gif(p), limits, PARAM);
    assert.deepEqual([image.width, image.height, image.format], [5, 3, 'gif']);
    assert.deepEqual(image.rgb, expectedRgb(p));
    assert.deepEqual([...image.rgb.subarray((1 * 5 + 2) * 3, (1 * 5 + 2) * 3 + 3)], [255, 255, 255]);
  });

  it('BMP: 24-bit bottom-up, 24-bit top-down and 32-bit with an alpha mask', async () => {
    for (const [bytes, p] of [
      [bmp(opaque), opaque],
      [bmp(opaque, { topDown: true }), opaque],
      [bmp(translucent, { bits: 32 }), translucent],
    ] as const) {
      const image = await decodeImage(bytes, limits, PARAM);
      assert.deepEqual([image.width, image.height, image.format], [p.width, p.height, 'bmp']);
      assert.deepEqual(image.rgb, expectedRgb(p));
    }
  });

  it('the format comes from the bytes, whatever the data URI declares', async () => {
    const p = picture(3, 2);
    for (const type of ['image/jpeg', 'text/plain', 'application/octet-stream', '']) {
      const image = await loadImage(dataUri(png(p), type), limits, PARAM);
      assert.equal(image.format, 'png');
      assert.deepEqual(image.rgb, expectedRgb(p));
    }
    // A small decoded data URI shares Buffer's pool: the WebP decoder must be given the image's bytes only.
    const fromWebp = await loadImage(dataUri(await webp(p), 'image/webp'), limits, PARAM);
    assert.deepEqual([fromWebp.format, ...fromWebp.rgb], ['webp', ...expectedRgb(p)]);
  });

  it('the hash is the pixels: equal across formats, different for different pixels', async () => {
    const p = picture(7, 5);
    const fromPng = await decodeImage(png(p), limits);
    const fromBmp = await decodeImage(bmp(p), limits);
    const fromWebp = await decodeImage(await webp(p), limits);
    assert.match(fromPng.hash, /^[0-9a-f]{64}$/);
    assert.equal(fromPng.hash, fromBmp.hash);
    assert.equal(fromPng.hash, fromWebp.hash);
    assert.equal(fromPng.hash, imageHash(7, 5, expectedRgb(p)));
    const other = await decodeImage(png(picture(7, 5, (x) => (x === 6 ? 254 : 255))), limits);
    assert.notEqual(other.hash, fromPng.hash);
    // Same bytes, other shape: 5x7 is not 7x5.
    assert.notEqual(imageHash(5, 7, fromPng.rgb), fromPng.hash);
  });
});

describe('refusing bad images', () => {
  it('garbage and truncated images', async () => {
    await refused(decodeImage(Buffer.from('hello, this is not an image at all'), limits, PARAM), /not an image in a supported format/);
    const whole = png(picture(32, 32));
    await refused(decodeImage(whole.subarray(0, 20), limits, PARAM), /PNG image is invalid: its header is missing or cut short/);
    await refused(decodeImage(whole.subarray(0, whole.length - 40), limits, PARAM), /PNG image could not be decoded/);
    const corrupt = Buffer.from(whole);
    corrupt.fill(0x55, 60, 90);
    await refused(decodeImage(corrupt, limits, PARAM), /PNG image could not be decoded/);
    const bitmap = bmp(picture(8, 8));
    await refused(
      decodeImage(bitmap.subarray(0, bitmap.length - 10), limits, PARAM),
      /BMP image could not be decoded \(the BMP pixel data is cut short\)/,
    );
    await refused(decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), limits, PARAM), /JPEG image is invalid/);
    const j = jpg(picture(64, 64));
    await refused(
      decodeImage(j.subarray(0, j.length / 2), limits, PARAM),
      /JPEG image could not be decoded \(the JPEG data is cut short\)/,
    );
    // Bytes past the end marker (a camera's trailer) are no harm.
    assert.equal((await decodeImage(Buffer.concat([j, Buffer.from('trailer')]), limits, PARAM)).width, 64);
    const w = await webp(picture(8, 8));
    await refused(
      decodeImage(w.subarray(0, w.length - 8), limits, PARAM),
      /WebP image could not be decoded \(the WebP data is cut short\)/,
    );
    const g = gif(picture(8, 8));
    await refused(decodeImage(g.subarray(0, 20), limits, PARAM), /GIF image could not be decoded/);
  });

  it('unsupported formats are named', async () => {
    const tiff = Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 0, 0]);
    await refused(decodeImage(tiff, limits, PARAM), /unsupported image format \(TIFF\); send PNG, JPEG, WebP, GIF or BMP/);
    const avif = Buffer.concat([Buffer.from([0, 0, 0, 0x1c]), Buffer.from('ftypavif'), Buffer.alloc(16)]);
    await refused(decodeImage(avif, limits, PARAM), /unsupported image format \(AVIF\)/);
    await refused(
      decodeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), limits, PARAM),
      /unsupported image format \(SVG\)/,
    );
  });

  it('a pixel bomb is refused from its header, before decoding', async () => {
    // A PNG header declaring 100000x100000 pixels, with no pixel data at all: decoding would fail
    // differently, so the message shows the header was read first.
    const header = Buffer.from(png(picture(1, 1)).subarray(0, 33));
    header.writeUInt32BE(100000, 16);
    header.writeUInt32BE(100000, 20);
    await refused(
      decodeImage(header, limits, PARAM),
      /image of 100000x100000 pixels exceeds --max-image-pixels 16777216; send a smaller image/,
    );
    const small: ImageLimits = { ...limits, maxPixels: 100 };
    await refused(decodeImage(png(picture(11, 10)), small, PARAM), /image of 11x10 pixels exceeds --max-image-pixels 100/);
    await refused(decodeImage(jpg(picture(11, 10)), small, PARAM), /11x10 pixels exceeds/);
    await refused(decodeImage(await webp(picture(11, 10)), small, PARAM), /11x10 pixels exceeds/);
    await refused(decodeImage(gif(picture(11, 10)), small, PARAM), /11x10 pixels exceeds/);
    await refused(decodeImage(bmp(picture(11, 10)), small, PARAM), /11x10 pixels exceeds/);
    assert.equal((await decodeImage(png(picture(10, 10)), small, PARAM)).width, 10);
    // An animation frame larger than its canvas is judged by its own size.
    await refused(
      decodeImage(animatedWebp([await webp(picture(11, 10))], 6, 4), small, PARAM),
      /image of 11x10 pixels exceeds --max-image-pixels 100/,
    );
    // A GIF whose 2x2 screen holds a 5000x5000 frame: the frame's size is checked before its decoder allocates it.
    const bomb = Buffer.concat([
      Buffer.from('GIF89a'),
      Buffer.from([2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]),
      Buffer.from([0x2c, 0, 0, 0, 0, 0x88, 0x13, 0x88, 0x13, 0]),
      Buffer.from([2, 2, 0x4c, 0x01, 0, 0x3b]),
    ]);
    await refused(
      decodeImage(bomb, limits, PARAM),
      /GIF image could not be decoded \(its first frame \(5000x5000 at 0,0\) does not fit its 2x2 screen\)/,
    );
  });

  it('an image over the byte limit', async () => {
    const bytes = png(picture(40, 40));
    await refused(
      decodeImage(bytes, { ...limits, maxBytes: 100 }, PARAM),
      new RegExp(`the image is ${bytes.length} bytes, more than --max-image-fetch-size 100`),
    );
    await refused(() => dataUriBytes(dataUri(bytes), { ...limits, maxBytes: 100 }, PARAM), /more than --max-image-fetch-size 100/);
  });

  it('data URI errors', async () => {
    await refused(loadImage('data:image/png;base64,@@@not base64@@@', limits, PARAM), /the data URI has invalid base64 data/);
    await refused(loadImage('data:image/png;base64,AAAAA', limits, PARAM), /invalid base64/);
    await refused(loadImage('data:image/png,rawbytes', limits, PARAM), /must be base64-encoded/);
    await refused(loadImage('data:image/png;base64', limits, PARAM), /data URI is malformed/);
    await refused(loadImage('data:image/png;base64,', limits, PARAM), /data URI is empty/);
    await refused(loadImage(dataUri(Buffer.from('just some text, not an image')), limits, PARAM), /not an image in a supported format/);
    await refused(loadImage('file:///etc/passwd', limits, PARAM), /must be http\(s\) or data URIs, not file:/);
    await refused(loadImage('just words', limits, PARAM), /must be an http\(s\) URL or a data URI/);
    // Whitespace and URL-safe base64 are tolerated.
    const p = picture(3, 3);
    const b64 = png(p).toString('base64');
    const wrapped = `data:image/png;base64,${b64.slice(0, 20)}\n${b64.slice(20)}`;
    assert.deepEqual((await loadImage(wrapped, limits, PARAM)).rgb, expectedRgb(p));
    const urlSafe = `data:;base64,${png(p).toString('base64url')}`;
    assert.deepEqual((await loadImage(urlSafe, limits, PARAM)).rgb, expectedRgb(p));
  });

  it('too many images in a request', () => {
    checkImageCount(8, limits);
    assert.throws(
      () => checkImageCount(9, limits, 'messages'),
      (error: unknown) =>
        error instanceof DomainError &&
        error.param === 'messages' &&
        /the request has 9 images, more than --max-images-per-request 8/.test(error.message),
    );
  });
});

describe('the launcher and the module agree', () => {
  it("the flags' defaults are DEFAULT_IMAGE_LIMITS", () => {
    assert.equal(FLAGS.maxImageFetchSize.default, DEFAULT_IMAGE_LIMITS.maxBytes);
    assert.equal(FLAGS.maxImagesPerRequest.default, DEFAULT_IMAGE_LIMITS.maxImagesPerRequest);
    assert.equal(FLAGS.maxImagePixels.default, DEFAULT_IMAGE_LIMITS.maxPixels);
    assert.equal(Number(FLAGS.imageFetchTimeout.default) * 1000, DEFAULT_IMAGE_LIMITS.fetchTimeoutMs);
    assert.equal(FLAGS.allowPrivateImageUrls.default, DEFAULT_IMAGE_LIMITS.allowPrivateUrls);
  });
});
