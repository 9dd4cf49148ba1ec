/**
 * Corrupt, truncated, zero-sized and huge images, crafted in memory: each gives a MultiheadError that says
 * what was wrong, and a header claiming more than maxPixels is refused before any decoder runs.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { MultiheadError } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, decodeImage, loadImage, readImageHeader } from '../src/index.js';
import { loadSharp } from '../src/preprocess/node.js';
import { imagePath } from './oracle.js';

const png = new Uint8Array(readFileSync(imagePath('sample.png')));
const jpeg = new Uint8Array(readFileSync(imagePath('sample.jpg')));

const u32be = (value: number) => [
  (value >>> 24) & 255,
  (value >>> 16) & 255,
  (value >>> 8) & 255,
  value & 255,
];
const u16le = (value: number) => [value & 255, (value >>> 8) & 255];
const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

/** A PNG signature and a well-formed IHDR (valid CRC) for width x height RGB, and nothing else. */
function pngHeader(width: number, height: number): Uint8Array {
  const body = [...ascii('IHDR'), ...u32be(width), ...u32be(height), 8, 2, 0, 0, 0];
  const crc = crc32(Uint8Array.from(body));
  return Uint8Array.from([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...u32be(13),
    ...body,
    ...u32be(crc),
  ]);
}

/** The sample PNG with its IHDR's width and height replaced (CRC recomputed). */
function pngClaiming(width: number, height: number): Uint8Array {
  const out = png.slice();
  out.set(pngHeader(width, height).subarray(8, 33), 8);
  return out;
}

async function expectRefusal(promise: Promise<unknown>, code: string, message: RegExp) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MultiheadError);
  expect((error as MultiheadError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
}

describe('decodeImage refuses bad images with a clear MultiheadError', () => {
  it('a PNG whose header claims 100000 x 100000 pixels, at once and without decoding', async () => {
    const started = performance.now();
    await expectRefusal(
      decodeImage(pngClaiming(100_000, 100_000)),
      'INVALID_ARGUMENT',
      /image bytes is 100000 x 100000 = 10000000000 pixels \(png header\), above maxPixels 50000000/,
    );
    // a 40 GB RGBA buffer could not be allocated, let alone filled, in this time
    expect(performance.now() - started).toBeLessThan(1000);
    await expectRefusal(decodeImage(pngHeader(100_000, 100_000)), 'INVALID_ARGUMENT', /above maxPixels/);
  });

  it('huge JPEG, WebP (VP8X) and GIF headers', async () => {
    // JPEG: SOI, then a baseline SOF0 with 60000 x 60000 and 3 components
    const sof = [
      0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xea, 0x60, 0xea, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
    ];
    await expectRefusal(
      decodeImage(Uint8Array.from(sof)),
      'INVALID_ARGUMENT',
      /60000 x 60000 .* \(jpeg header\)/,
    );
    const webp = [...ascii('RIFF'), 22, 0, 0, 0, ...ascii('WEBPVP8X'), 10, 0, 0, 0, 0, 0, 0, 0];
    webp.push(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0); // canvas 16777216 x 16777216
    await expectRefusal(
      decodeImage(Uint8Array.from(webp)),
      'INVALID_ARGUMENT',
      /16777216 x 16777216 .* \(webp/,
    );
    const gif = [...ascii('GIF89a'), ...u16le(65535), ...u16le(65535), 0, 0, 0];
    await expectRefusal(
      decodeImage(Uint8Array.from(gif)),
      'INVALID_ARGUMENT',
      /65535 x 65535 .* \(gif header\)/,
    );
  });

  it('maxPixels applies to real images too, and must be a positive integer', async () => {
    await expectRefusal(
      decodeImage(imagePath('sample.png'), { maxPixels: 1000 }),
      'INVALID_ARGUMENT',
      /sample.png is 37 x 29 = 1073 pixels \(png header\), above maxPixels 1000; pass a larger maxPixels/,
    );
    expect((await decodeImage(imagePath('sample.png'), { maxPixels: 1073 })).width).toBe(37);
    await expectRefusal(
      decodeImage(png, { maxPixels: 0 }),
      'INVALID_ARGUMENT',
      /maxPixels must be a positive integer, got 0/,
    );
    await expectRefusal(loadImage(png, { maxPixels: 10 }), 'INVALID_ARGUMENT', /above maxPixels 10/);
    expect(DEFAULT_MAX_PIXELS).toBe(50_000_000);
  });

  it('zero-sized images', async () => {
    await expectRefusal(
      decodeImage(pngClaiming(0, 29)),
      'INVALID_ARGUMENT',
      /zero-sized \(png header: 0 x 29\)/,
    );
    const gif = [...ascii('GIF89a'), ...u16le(10), ...u16le(0), 0, 0, 0];
    await expectRefusal(
      decodeImage(Uint8Array.from(gif)),
      'INVALID_ARGUMENT',
      /zero-sized \(gif header: 10 x 0\)/,
    );
  });

  it('empty, truncated and unknown bytes', async () => {
    await expectRefusal(
      decodeImage(new Uint8Array(0)),
      'INVALID_ARGUMENT',
      /image bytes is empty \(0 bytes\)/,
    );
    await expectRefusal(
      decodeImage(png.subarray(0, 20)),
      'INVALID_ARGUMENT',
      /truncated PNG header \(20 bytes/,
    );
    await expectRefusal(
      decodeImage(png.subarray(0, png.length >> 1)),
      'INVALID_ARGUMENT',
      /image bytes is corrupt or truncated \(png\): .*libpng read error/,
    );
    await expectRefusal(decodeImage(jpeg.subarray(0, 100)), 'INVALID_ARGUMENT', /truncated JPEG header/);
    await expectRefusal(
      decodeImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.7))),
      'INVALID_ARGUMENT',
      /corrupt or truncated \(jpeg\): .*premature end/,
    );
    await expectRefusal(
      decodeImage(Uint8Array.from(ascii('hello, world'))),
      'UNSUPPORTED',
      /not a PNG, JPEG, WebP or GIF file \(first bytes: 68 65 6c/,
    );
    const svg = ascii('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expectRefusal(decodeImage(Uint8Array.from(svg)), 'UNSUPPORTED', /not a PNG, JPEG, WebP or GIF/);
  });

  it('corrupt pixel data (a flipped byte inside IDAT) and a corrupt header', async () => {
    const broken = png.slice();
    const idat = Buffer.from(broken).indexOf('IDAT');
    broken[idat + 30] = broken[idat + 30]! ^ 0xff;
    await expectRefusal(decodeImage(broken), 'INVALID_ARGUMENT', /corrupt or truncated \(png\)/);
    const noIhdr = png.slice();
    noIhdr.set(ascii('IHDX'), 12);
    await expectRefusal(
      decodeImage(noIhdr),
      'INVALID_ARGUMENT',
      /corrupt PNG \(the first chunk is not IHDR\)/,
    );
  });

  it('missing files and wrong argument types', async () => {
    await expectRefusal(
      decodeImage('/nonexistent/picture.png'),
      'IO_ERROR',
      /cannot read image file \/nonexistent\/picture.png/,
    );
    await expectRefusal(
      decodeImage(42 as unknown as string),
      'INVALID_ARGUMENT',
      /source must be a file path or a Uint8Array, got number/,
    );
  });
});

describe('readImageHeader agrees with sharp on images sharp writes', () => {
  it('PNG, JPEG, lossy and lossless WebP, GIF at odd sizes', async () => {
    const sharp = await loadSharp();
    for (const [width, height] of [
      [1, 1],
      [37, 5],
      [300, 17],
    ] as const) {
      const base = sharp({ create: { width, height, channels: 3, background: { r: 10, g: 200, b: 30 } } });
      const files = {
        png: await base.clone().png().toBuffer(),
        jpeg: await base.clone().jpeg().toBuffer(),
        webp: await base.clone().webp({ lossless: false }).toBuffer(),
        webpLossless: await base.clone().webp({ lossless: true }).toBuffer(),
        webpAlpha: await base.clone().ensureAlpha(0.5).webp().toBuffer(),
        gif: await base.clone().gif().toBuffer(),
      };
      for (const [kind, bytes] of Object.entries(files)) {
        const metadata = await sharp(bytes).metadata();
        const header = readImageHeader(new Uint8Array(bytes), kind);
        expect({ kind, ...header }).toEqual({
          kind,
          format: metadata.format,
          width: metadata.width,
          height: metadata.height,
        });
      }
    }
  });
});
