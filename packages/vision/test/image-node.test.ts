import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng, readImageHeader, writePng } from '../src/index.js';
import { imagePath, oracle } from './oracle.js';

/** Largest per-byte difference between two RGBA buffers of equal length. */
function maxByteDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('decodeImage (sharp) equals PIL', () => {
  // lossless formats: byte for byte; JPEG: libjpeg-turbo (PIL) and mozjpeg (sharp) may round IDCTs apart
  // by one (equal here: measured 0)
  const cases = [
    ['sample.png', 0],
    ['sample-gray.png', 0],
    ['sample.gif', 0],
    ['sample.webp', 0],
    ['sample.jpg', 1],
    ['sample-exif6.jpg', 1],
  ] as const;
  for (const [file, tolerance] of cases)
    it(`${file} (within ${tolerance} of 255)`, async () => {
      const expected = oracle(`decoded.${file}`);
      const [height, width] = expected.shape;
      const fromPath = await decodeImage(imagePath(file));
      expect([fromPath.height, fromPath.width]).toEqual([height, width]);
      expect(maxByteDiff(fromPath.data, expected.data as Uint8Array)).toBeLessThanOrEqual(tolerance);
      const fromBytes = await decodeImage(new Uint8Array(readFileSync(imagePath(file))));
      expect(Array.from(fromBytes.data)).toEqual(Array.from(fromPath.data));
    });

  it('applies EXIF orientation 6 (the 37 x 29 picture comes out 29 wide, 37 high)', async () => {
    const image = await decodeImage(imagePath('sample-exif6.jpg'));
    expect([image.width, image.height]).toEqual([29, 37]);
    expect(readImageHeader(readFileSync(imagePath('sample-exif6.jpg')))).toEqual({
      format: 'jpeg',
      width: 37,
      height: 29,
    });
  });
});

describe('encodePng / writePng', () => {
  it('round-trips RGBA with alpha exactly', async () => {
    const data = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const image = { width: 5, height: 3, data };
    const png = await encodePng(image);
    expect(readImageHeader(png)).toEqual({ format: 'png', width: 5, height: 3 });
    const back = await decodeImage(png);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    const dir = await mkdtemp(join(tmpdir(), 'vision-png-'));
    try {
      await writePng(join(dir, 'out.png'), image);
      expect(new Uint8Array(await readFile(join(dir, 'out.png')))).toEqual(png);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('refuses a bad image or path', async () => {
    await expect(encodePng({ width: 2, height: 2, data: new Uint8Array(3) })).rejects.toThrow(
      /encodePng: image.data has 3 bytes, expected width x height x 4 = 2 x 2 x 4 = 16/,
    );
    await expect(writePng('', { width: 1, height: 1, data: new Uint8Array(4) })).rejects.toThrow(
      /writePng: path must be a non-empty string/,
    );
  });
});
