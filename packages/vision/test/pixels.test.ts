import { expectClose, getDevices } from '@multihead/core/testing';
import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  decodeImage,
  IMAGENET_MEAN,
  IMAGENET_STD,
  imageTensor,
  loadImage,
  loadImageBatch,
  normalize,
  preprocessImage,
  type RgbaImage,
  resizedSize,
  rgbaToPlanes,
  stackImages,
} from '../src/index.js';
import { imagePath, oracle, PIPELINE_CASES } from './oracle.js';

const tiny: RgbaImage = {
  width: 2,
  height: 1,
  data: Uint8Array.from([255, 0, 51, 7, 0, 255, 102, 255]),
};

describe('preprocessImage on sample.png equals the float64 PyTorch pipeline', () => {
  it('has the oracle cases', () => expect(PIPELINE_CASES.length).toBeGreaterThanOrEqual(4));
  for (const { name, options } of PIPELINE_CASES)
    it(`${name}: ${JSON.stringify(options)}`, async () => {
      const expected = oracle(`pipeline.${name}.out`);
      const out = await loadImage(imagePath('sample.png'), options);
      expect(out.shape).toEqual(expected.shape);
      // values up to ~2.6 after normalization; float32 rounding of the steps
      expectClose(out.data, expected.data as Float32Array, 3e-6, 1e-6, name);
    });
});

describe('pixel steps', () => {
  it('rgbaToPlanes: RGB drops alpha; grayscale is BT.601 luma', () => {
    const rgb = rgbaToPlanes(tiny);
    expect(rgb.shape).toEqual([3, 1, 2]);
    expectClose(rgb.data, [1, 0, 0, 1, 0.2, 0.4], 1e-7);
    const gray = rgbaToPlanes(tiny, 'grayscale');
    expectClose(gray.data, [0.299 + 0.114 * 0.2, 0.587 + 0.114 * 0.4], 1e-7);
  });

  it('resizedSize: a number sets the shorter side and truncates the longer (torchvision Resize)', () => {
    expect(resizedSize(29, 37, 24)).toEqual({ height: 24, width: 30 }); // 24 * 37 / 29 = 30.6
    expect(resizedSize(37, 29, 24)).toEqual({ height: 30, width: 24 });
    expect(resizedSize(10, 10, 3)).toEqual({ height: 3, width: 3 });
    expect(resizedSize(5, 9, { width: 4, height: 2 })).toEqual({ width: 4, height: 2 });
  });

  it('centerCrop takes floor offsets and refuses a crop larger than the image', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i); // [2, 3, 4]
    const out = centerCrop({ data, shape: [2, 3, 4] }, { width: 3, height: 2 });
    expect(out.shape).toEqual([2, 2, 3]);
    expect(Array.from(out.data)).toEqual([0, 1, 2, 4, 5, 6, 12, 13, 14, 16, 17, 18]);
    expect(() => centerCrop({ data, shape: [2, 3, 4] }, { width: 5, height: 2 })).toThrow(
      /crop 5 x 2 \(width x height\) is larger than the image 4 x 3/,
    );
  });

  it('normalize broadcasts one value and refuses bad statistics', () => {
    const image = {
      data: Float32Array.from([0, 1, 0.5, 0.25]),
      shape: [2, 1, 2] as [number, number, number],
    };
    expectClose(normalize(image, [0.5], [0.5]).data, [-1, 1, 0, -0.5], 1e-7);
    expectClose(normalize(image, [0, 0.5], [1, 0.25]).data, [0, 1, 0, -1], 1e-7);
    expect(() => normalize(image, [0, 0, 0], [1])).toThrow(
      /mean must be an array of 1 or 2 numbers .* got 3 values/,
    );
    expect(() => normalize(image, [0], [0])).toThrow(/std must be positive, got 0/);
    expect(() => normalize(image, [Number.NaN], [1])).toThrow(/mean must hold finite numbers, got NaN/);
  });

  it('preprocessImage refuses bad options and bad images, naming them', () => {
    expect(() => preprocessImage(tiny, { resize: 0 })).toThrow(/resize must be a positive integer, got 0/);
    expect(() => preprocessImage(tiny, { crop: { width: 1, height: -1 } })).toThrow(
      /crop.height must be a positive/,
    );
    expect(() => preprocessImage(tiny, { mean: [0.5] })).toThrow(
      /give mean and std together \(got only mean\)/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
    expect(() => preprocessImage(tiny, { channels: 'cmyk' as any })).toThrow(
      /channels must be 'rgb' or 'grayscale'/,
    );
    expect(() => preprocessImage({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(
      /image.data has 15 bytes, expected width x height x 4 = 2 x 2 x 4 = 16/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
    expect(() => preprocessImage({ width: 1, height: 1, data: [1, 2, 3, 4] } as any)).toThrow(
      /image.data must be a Uint8Array or Uint8ClampedArray, got array/,
    );
  });
});

describe('batches and tensors', () => {
  it('stackImages stacks [C, H, W] into [B, C, H, W] and refuses mixed shapes', () => {
    const a = { data: Float32Array.from([1, 2]), shape: [1, 1, 2] as [number, number, number] };
    const b = { data: Float32Array.from([3, 4]), shape: [1, 1, 2] as [number, number, number] };
    const batch = stackImages([a, b]);
    expect(batch.shape).toEqual([2, 1, 1, 2]);
    expect(Array.from(batch.data)).toEqual([1, 2, 3, 4]);
    const c = { data: Float32Array.from([3, 4]), shape: [1, 2, 1] as [number, number, number] };
    expect(() => stackImages([a, c])).toThrow(
      /image 1 has shape \[1, 2, 1\], expected \[1, 1, 2\] like image 0/,
    );
    expect(() => stackImages([])).toThrow(/images must be a non-empty array/);
  });

  it('loadImageBatch decodes files of different formats to one batch', async () => {
    const options = { resize: { width: 8, height: 6 }, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    const batch = await loadImageBatch([imagePath('sample.png'), imagePath('sample.webp')], options);
    expect(batch.shape).toEqual([2, 3, 6, 8]);
    const size = 3 * 6 * 8;
    // the lossless WebP holds the same pixels as the PNG
    expect(Array.from(batch.data.subarray(size))).toEqual(Array.from(batch.data.subarray(0, size)));
    const single = await loadImage(imagePath('sample.png'), options);
    expect(Array.from(batch.data.subarray(0, size))).toEqual(Array.from(single.data));
  });

  it('imageTensor puts an image and a batch on the device under test', async () => {
    const { dev } = await getDevices();
    const image = preprocessImage(await decodeImage(imagePath('sample.png')), { resize: 6, crop: 5 });
    const t = imageTensor(dev, image);
    expect(t.shape).toEqual([3, 5, 5]);
    expect(t.dtype).toBe('f32');
    expect(Array.from(await t.read())).toEqual(Array.from(image.data));
    t.dispose();
    const batch = imageTensor(dev, stackImages([image, image]));
    expect(batch.shape).toEqual([2, 3, 5, 5]);
    batch.dispose();
    // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
    expect(() => imageTensor(dev, { data: [1], shape: [1, 1, 1] } as any)).toThrow(
      /image must be \{ data: Float32Array, shape \}, got object/,
    );
  });
});
