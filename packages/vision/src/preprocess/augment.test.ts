/** Seeded augmentation: exact pixels of small cases (checked by hand in the comments), and the draws' statistics. */
import { describe, expect, it } from 'vitest';
import { augment, randomCrop, randomHorizontalFlip } from './augment.js';

const counting = (shape: [number, number, number, number]) => ({
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => i + 1),
  shape,
});

/** The [h, w] window at (top, left) of every plane of image b, zero-padded by `pad` on all four sides. */
function windowAt(
  images: ReturnType<typeof counting>,
  b: number,
  top: number,
  left: number,
  [h, w]: [number, number],
  pad: number,
): number[] {
  const [, C, H, W] = images.shape;
  const out: number[] = [];
  for (let c = 0; c < C; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const [sy, sx] = [top + y - pad, left + x - pad];
        out.push(sy < 0 || sy >= H || sx < 0 || sx >= W ? 0 : images.data[((b * C + c) * H + sy) * W + sx]!);
      }
  return out;
}

describe('randomCrop', () => {
  it('pads with zeros and cuts the drawn window (exact pixels, seed 3)', () => {
    // image 0 [[1, 2, 3], [4, 5, 6]] padded by 1 is 4 × 5:  0 0 0 0 0 / 0 1 2 3 0 / 0 4 5 6 0 / 0 0 0 0 0
    // seed 3 draws (top 1, left 3) for both images: [[3, 0], [6, 0]] and [[9, 0], [12, 0]]
    const images = counting([2, 1, 2, 3]);
    const out = randomCrop(images, { size: 2, padding: 1, seed: 3 });
    expect(out.shape).toEqual([2, 1, 2, 2]);
    expect(Array.from(out.data)).toEqual([3, 0, 6, 0, 9, 0, 12, 0]);
    expect(Array.from(randomCrop(images, { size: 2, padding: 1, seed: 3 }).data)).toEqual(
      Array.from(out.data),
    );
  });

  it('crops every channel of an image at the same place; [leftRight, topBottom] padding; { width, height }', () => {
    // [2, 2, 2, 2] padded only left and right (padding [1, 0]) is 2 × 4 per plane; a 2 × 3 window has left 0 or 1.
    // seed 11: image 0 at left 1 -> [[1, 2, 0], [3, 4, 0]], [[5, 6, 0], [7, 8, 0]];
    //          image 1 at left 0 -> [[0, 9, 10], [0, 11, 12]], [[0, 13, 14], [0, 15, 16]]
    const out = randomCrop(counting([2, 2, 2, 2]), {
      size: { height: 2, width: 3 },
      padding: [1, 0],
      seed: 11,
    });
    expect(out.shape).toEqual([2, 2, 2, 3]);
    expect(Array.from(out.data)).toEqual([
      1, 2, 0, 3, 4, 0, 5, 6, 0, 7, 8, 0, 0, 9, 10, 0, 11, 12, 0, 13, 14, 0, 15, 16,
    ]);
  });

  it('draws every position of the padded image about equally often, each a true window', () => {
    // a 1 × 2 image padded by 1 (3 × 4) has 3 · 3 = 9 places for a 1 × 2 window; 900 images, ~100 each
    const B = 900;
    const images = counting([B, 1, 1, 2]);
    const out = randomCrop(images, { size: { height: 1, width: 2 }, padding: 1, seed: 42 });
    const counts = new Map<string, number>();
    for (let b = 0; b < B; b++) {
      const got = Array.from(out.data.subarray(b * 2, b * 2 + 2));
      const places: string[] = [];
      for (let top = 0; top < 3; top++)
        for (let left = 0; left < 3; left++)
          if (windowAt(images, b, top, left, [1, 2], 1).every((v, i) => v === got[i]))
            places.push(`${top},${left}`);
      expect(places.length, `image ${b}: ${got}`).toBeGreaterThan(0);
      // all-zero windows (top row, bottom row) are indistinguishable: count the first matching place
      counts.set(places[0]!, (counts.get(places[0]!) ?? 0) + 1);
    }
    // the three top-row and three bottom-row windows are all zeros (counted as '0,0'): 6 of 9 places
    expect(counts.get('0,0')! / B).toBeGreaterThan(6 / 9 - 0.06);
    for (const place of ['1,0', '1,1', '1,2']) {
      expect(counts.get(place)).toBeGreaterThan(60); // binomial(900, 1/9): mean 100, sd 9.4
      expect(counts.get(place)).toBeLessThan(140);
    }
  });

  it('changes with the seed and keeps the input', () => {
    const images = counting([8, 1, 4, 4]);
    const before = Array.from(images.data);
    const a = randomCrop(images, { size: 3, padding: 2, seed: 1 });
    const b = randomCrop(images, { size: 3, padding: 2, seed: 2 });
    expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    expect(Array.from(images.data)).toEqual(before);
  });

  it('names the problem with bad arguments', () => {
    const images = counting([1, 1, 2, 3]);
    expect(() => randomCrop(images, { size: 5, padding: 1, seed: 0 })).toThrow(
      /crop 5 × 5 \(height × width\) is larger than the padded image 4 × 5/,
    );
    expect(() => randomCrop(images, { size: 0, seed: 0 })).toThrow(/size must be a positive integer/);
    expect(() => randomCrop(images, { size: 2, padding: -1, seed: 0 })).toThrow(
      /padding must be a non-negative integer/,
    );
    expect(() => randomCrop(images, { size: 2, padding: [1, 2, 3] as never, seed: 0 })).toThrow(
      /padding must be/,
    );
    expect(() => randomCrop(images, { size: 2, seed: 0.5 })).toThrow(/seed must be a safe integer, got 0.5/);
    expect(() =>
      randomCrop({ data: new Float32Array(5), shape: [1, 1, 2, 3] }, { size: 2, seed: 0 }),
    ).toThrow(/images.data has 5 values; shape \[1, 1, 2, 3\] needs 6/);
    expect(() =>
      randomCrop({ data: new Float32Array(6), shape: [1, 2, 3] as never }, { size: 2, seed: 0 }),
    ).toThrow(/images.shape must be \[B, C, H, W\]/);
  });
});

describe('randomHorizontalFlip', () => {
  it('mirrors the images whose draw falls below p (exact pixels, seed 5)', () => {
    // four 2 × 3 images; seed 5 flips images 2 and 3: [13, 14, 15] -> [15, 14, 13], ...
    const out = randomHorizontalFlip(counting([4, 1, 2, 3]), { seed: 5 });
    expect(out.shape).toEqual([4, 1, 2, 3]);
    expect(Array.from(out.data)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 14, 13, 18, 17, 16, 21, 20, 19, 24, 23, 22,
    ]);
  });

  it('flips every image with p = 1, none with p = 0, about half with p = 0.5', () => {
    const images = counting([400, 1, 1, 2]); // image b is [2b + 1, 2b + 2]
    const all = randomHorizontalFlip(images, { p: 1, seed: 9 });
    expect(Array.from(all.data.subarray(0, 4))).toEqual([2, 1, 4, 3]);
    expect(Array.from(randomHorizontalFlip(images, { p: 0, seed: 9 }).data)).toEqual(Array.from(images.data));
    const half = randomHorizontalFlip(images, { seed: 9 });
    let flipped = 0;
    for (let b = 0; b < 400; b++) if (half.data[2 * b]! > half.data[2 * b + 1]!) flipped++;
    expect(flipped).toBeGreaterThan(160); // binomial(400, 0.5): mean 200, sd 10
    expect(flipped).toBeLessThan(240);
    expect(() => randomHorizontalFlip(images, { p: 1.5, seed: 0 })).toThrow(/p must be in \[0, 1\], got 1.5/);
  });
});

describe('augment', () => {
  it('crops, then flips with an independent stream of the same seed', () => {
    const images = counting([16, 1, 4, 4]);
    const crop = { size: 4, padding: 1 };
    const out = augment(images, { crop, flip: true, seed: 21 });
    const cropped = randomCrop(images, { ...crop, seed: 21 });
    expect(Array.from(out.data)).toEqual(Array.from(randomHorizontalFlip(cropped, { seed: 21 }).data));
    expect(Array.from(augment(images, { crop, seed: 21 }).data)).toEqual(Array.from(cropped.data));
    const plain = augment(images, { seed: 21 });
    expect(Array.from(plain.data)).toEqual(Array.from(images.data));
    expect(plain.data).not.toBe(images.data);
  });
});
