/**
 * From a u8 image dataset (`[count, H, W]`, as loadFashionMnist returns) to the float batches and pixels
 * the rest of the package takes: `[B, 1, H, W]` for a model, RGBA for grids and PNGs.
 */
import { describeType, invalidArgument } from '../preprocess/errors.js';
import type { ImageBatch, RgbaImage } from '../preprocess/pixels.js';
import type { ImageDataset } from './fashion-mnist.js';

/**
 * Fashion-MNIST's training-set pixel mean and std on the [0, 1] scale (float64 over all 47 M pixels of
 * train-images-idx3-ubyte, Debian dataset-fashion-mnist), for `normalize` / `datasetBatch`.
 */
export const FASHION_MNIST_MEAN = 0.2860406;
export const FASHION_MNIST_STD = 0.3530242;

export interface DatasetBatchOptions {
  /** (x / 255 - mean) / std; default mean 0, std 1 (values in [0, 1]). */
  mean?: number;
  std?: number;
}

function checkIndex(dataset: ImageDataset, index: unknown, where: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= dataset.count)
    invalidArgument(
      `${where}: index ${String(index)} is out of range (the dataset has ${dataset.count} images)`,
    );
  return index;
}

/** The images at `indices` as `[B, 1, H, W]` floats, with their labels. */
export function datasetBatch(
  dataset: ImageDataset,
  indices: readonly number[] | Int32Array | Uint32Array,
  options: DatasetBatchOptions = {},
): ImageBatch & { labels: Int32Array } {
  const where = 'datasetBatch';
  if (
    !(Array.isArray(indices) || indices instanceof Int32Array || indices instanceof Uint32Array) ||
    indices.length === 0
  )
    invalidArgument(
      `${where}: indices must be a non-empty array of image indices, got ${describeType(indices)}`,
    );
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std))
    invalidArgument(
      `${where}: mean must be finite and std finite and positive, got mean ${mean}, std ${std}`,
    );
  const { height, width } = dataset;
  const pixels = height * width;
  const data = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  for (let b = 0; b < indices.length; b++) {
    const index = checkIndex(dataset, indices[b], where);
    const from = index * pixels;
    for (let p = 0; p < pixels; p++) data[b * pixels + p] = (dataset.images[from + p]! / 255 - mean) / std;
    labels[b] = dataset.labels[index]!;
  }
  return { data, shape: [indices.length, 1, height, width], labels };
}

/** Image `index` as gray RGBA pixels (for imageGrid, encodePng). */
export function datasetRgba(dataset: ImageDataset, index: number): RgbaImage {
  checkIndex(dataset, index, 'datasetRgba');
  const { height, width } = dataset;
  const gray = dataset.images.subarray(index * height * width, (index + 1) * height * width);
  const data = new Uint8Array(gray.length * 4);
  for (let i = 0; i < gray.length; i++) {
    data.fill(gray[i]!, 4 * i, 4 * i + 3);
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
