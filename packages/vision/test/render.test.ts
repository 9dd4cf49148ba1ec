import { expectClose } from '@multihead/core/testing';
import { describe, expect, it } from 'vitest';
import {
  colorizeHeatmap,
  colormapColor,
  decodeImage,
  heatmapOverlay,
  IMAGENET_MEAN,
  IMAGENET_STD,
  imageArrayToRgba,
  imageGrid,
  loadImage,
  type RgbaImage,
  resizePlanes,
  scaledHeatmap,
} from '../src/index.js';
import { COLORMAP_VALUES, imagePath, oracle } from './oracle.js';

const solid = (width: number, height: number, rgba: number[]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height * 4 }, (_, i) => rgba[i % 4]!),
});
const pixel = (image: RgbaImage, x: number, y: number) =>
  Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4));

describe('imageArrayToRgba', () => {
  it('undoes preprocessImage: normalized sample.png comes back byte for byte', async () => {
    const decoded = await decodeImage(imagePath('sample.png'));
    const array = await loadImage(imagePath('sample.png'), { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    const back = imageArrayToRgba(array, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect([back.width, back.height]).toEqual([37, 29]);
    expect(Array.from(back.data)).toEqual(Array.from(decoded.data));
  });

  it('[H, W] and [1, H, W] are gray; C = 4 keeps alpha; range maps; values clamp; NaN is 0', () => {
    const gray = imageArrayToRgba({ data: [0, 0.5, 1, 2], shape: [2, 2] });
    expect(pixel(gray, 1, 0)).toEqual([128, 128, 128, 255]); // 127.5 rounds up
    expect(pixel(gray, 1, 1)).toEqual([255, 255, 255, 255]);
    const ranged = imageArrayToRgba({ data: [-1, 0, 1, Number.NaN], shape: [1, 1, 4] }, { range: [-1, 1] });
    expect(Array.from(ranged.data)).toEqual([
      0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255,
    ]);
    const rgba = imageArrayToRgba({ data: Float32Array.from([1, 0, 0.2, 0.4]), shape: [4, 1, 1] });
    expect(Array.from(rgba.data)).toEqual([255, 0, 51, 102]);
  });

  it('refuses bad shapes and statistics', () => {
    expect(() => imageArrayToRgba({ data: [0, 0], shape: [2, 1, 1] })).toThrow(
      /channels \(shape\[0\]\) must be 1, 3 or 4, got 2/,
    );
    expect(() => imageArrayToRgba({ data: [0, 0], shape: [1, 1, 3] })).toThrow(
      /data has 2 values, shape \[1, 1, 3\] needs 3/,
    );
    expect(() => imageArrayToRgba({ data: [0], shape: [1] })).toThrow(
      /shape must be \[C, H, W\] or \[H, W\], got \[1\]/,
    );
    expect(() => imageArrayToRgba({ data: [0], shape: [1, 1] }, { range: [1, 1] })).toThrow(
      /finite low < high, got \[1, 1\]/,
    );
    expect(() => imageArrayToRgba({ data: [0], shape: [1, 1] }, { std: [1] })).toThrow(
      /give mean and std together/,
    );
  });
});

describe('imageGrid', () => {
  it('tiles row by row with margins around every cell (torchvision make_grid)', () => {
    const red = solid(2, 2, [255, 0, 0, 255]);
    const green = solid(2, 2, [0, 255, 0, 255]);
    const blue = solid(2, 2, [0, 0, 255, 255]);
    const grid = imageGrid([red, green, blue], { columns: 2, margin: 1, background: [0, 0, 0, 255] });
    expect([grid.width, grid.height]).toEqual([2 * 3 + 1, 2 * 3 + 1]);
    expect(pixel(grid, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(grid, 1, 1)).toEqual([255, 0, 0, 255]);
    expect(pixel(grid, 2, 2)).toEqual([255, 0, 0, 255]);
    expect(pixel(grid, 3, 1)).toEqual([0, 0, 0, 255]);
    expect(pixel(grid, 4, 1)).toEqual([0, 255, 0, 255]);
    expect(pixel(grid, 1, 4)).toEqual([0, 0, 255, 255]);
    expect(pixel(grid, 4, 4)).toEqual([0, 0, 0, 255]); // the empty fourth cell
  });

  it('centers a smaller image in its cell; the default is ceil(sqrt(N)) columns, margin 2, white', () => {
    const big = solid(4, 4, [0, 0, 0, 255]);
    const small = solid(2, 2, [9, 9, 9, 255]);
    const grid = imageGrid([big, small]);
    expect([grid.width, grid.height]).toEqual([2 * 6 + 2, 6 + 2]);
    expect(pixel(grid, 0, 0)).toEqual([255, 255, 255, 255]);
    expect(pixel(grid, 8, 2)).toEqual([255, 255, 255, 255]); // above the small image
    expect(pixel(grid, 9, 3)).toEqual([9, 9, 9, 255]); // cell x0 8 + 1, y0 2 + 1
    expect(pixel(grid, 10, 4)).toEqual([9, 9, 9, 255]);
    expect(pixel(grid, 11, 5)).toEqual([255, 255, 255, 255]);
  });

  it('refuses bad input', () => {
    expect(() => imageGrid([])).toThrow(/images must be a non-empty array/);
    expect(() => imageGrid([solid(1, 1, [0, 0, 0, 0])], { margin: -1 })).toThrow(
      /margin must be a non-negative integer, got -1/,
    );
    expect(() => imageGrid([solid(1, 1, [0, 0, 0, 0])], { columns: 0 })).toThrow(
      /columns must be a positive integer, got 0/,
    );
    expect(() => imageGrid([{ width: 1, height: 1, data: new Uint8Array(3) }])).toThrow(
      /images\[0\].data has 3 bytes/,
    );
  });
});

describe('colormaps and heatmaps', () => {
  for (const name of ['viridis', 'inferno'] as const)
    it(`${name} equals matplotlib's Colormap(value, bytes=True), clamping outside [0, 1]`, () => {
      const expected = oracle(`colormap.${name}`).data as Uint8Array;
      COLORMAP_VALUES.forEach((value, i) => {
        expect([value, ...colormapColor(value, name)]).toEqual([
          value,
          ...expected.subarray(4 * i, 4 * i + 3),
        ]);
      });
    });

  it('scaledHeatmap: nearest upsampling gives one block per cell; bilinear equals resizePlanes; min-max scaling', () => {
    const map = { data: [0, 1, 2, 3], height: 2, width: 2 };
    const nearest = scaledHeatmap(map, 4, 6, { upsample: 'nearest' });
    expect(Array.from(nearest.subarray(0, 6))).toEqual([0, 0, 0, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    expect(Array.from(nearest.subarray(18, 24))).toEqual([2 / 3, 2 / 3, 2 / 3, 1, 1, 1].map(Math.fround));
    const bilinear = scaledHeatmap(map, 5, 7, { range: [0, 3] });
    const expected = resizePlanes(Float32Array.from(map.data), 1, 2, 2, 5, 7).map((v) => v / 3);
    expectClose(bilinear, expected, 1e-7);
    expect(Array.from(scaledHeatmap({ data: [5, 5], height: 1, width: 2 }, 1, 2))).toEqual([0, 0]);
  });

  it('heatmapOverlay blends (1 - alpha) image + alpha color and keeps the image alpha', () => {
    const image = solid(4, 4, [200, 100, 0, 77]);
    const map = { data: [0, 1, 1, 0], height: 2, width: 2 };
    const out = heatmapOverlay(image, map, { alpha: 0.25, upsample: 'nearest', colormap: 'inferno' });
    const low = colormapColor(0, 'inferno');
    const high = colormapColor(1, 'inferno');
    const blend = (c: number[]) => [0, 1, 2].map((i) => Math.round(0.75 * [200, 100, 0][i]! + 0.25 * c[i]!));
    expect(pixel(out, 0, 0)).toEqual([...blend(low), 77]);
    expect(pixel(out, 3, 0)).toEqual([...blend(high), 77]);
    expect(pixel(out, 0, 3)).toEqual([...blend(high), 77]);
    expect(Array.from(heatmapOverlay(image, map, { alpha: 0 }).data)).toEqual(Array.from(image.data));
    const full = heatmapOverlay(image, map, { alpha: 1 });
    const colored = colorizeHeatmap(map, { width: 4, height: 4 });
    for (let i = 0; i < 16; i++)
      expect(pixel(full, i % 4, i >> 2).slice(0, 3)).toEqual(pixel(colored, i % 4, i >> 2).slice(0, 3));
  });

  it('refuses bad maps and options', () => {
    const image = solid(2, 2, [0, 0, 0, 255]);
    expect(() => heatmapOverlay(image, { data: [1, 2, 3], height: 2, width: 2 })).toThrow(
      /map.data has 3 values, expected height x width = 2 x 2/,
    );
    expect(() => heatmapOverlay(image, { data: [1], height: 1, width: 1 }, { alpha: 2 })).toThrow(
      /alpha must be a number in \[0, 1\], got 2/,
    );
    expect(() => scaledHeatmap({ data: [1], height: 1, width: 1 }, 2, 2, { range: [2, 1] })).toThrow(
      /range must be \[low, high\]/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
    expect(() => colormapColor(0.5, 'jet' as any)).toThrow(
      /colormap must be 'viridis', 'inferno' or 'gray', got jet/,
    );
  });
});
