/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28 x 28 gray images of 10 kinds of clothing, 60000 train
 * and 10000 test, from Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist, the original
 * gzipped IDX files). Decompressed files are kept in the shared dataset cache (io.cachedBytes) and checked
 * again on every load, so a second load reads them without gunzip.
 */
import { io, seededUniform } from '@multihead/core';
import { invalidArgument, ioError } from '../preprocess/errors.js';
import { nodeFs, nodePath } from '../preprocess/node.js';
import { readIdxFileBytes, readIdxImages, readIdxLabels } from './idx.js';

/** Class names in label order (the dataset's README). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface FashionMnistOptions extends io.CacheOptions {
  /** 'train' (60000 images, default) or 'test' (10000). */
  split?: 'train' | 'test';
  /** Where the IDX files are. Default FASHION_MNIST_DIR (Debian dataset-fashion-mnist). */
  dir?: string;
}

/** An image classification set: `images` is `[count, height, width]` u8, row-major; labels index `classes`. */
export interface ImageDataset {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  classes: readonly string[];
}

const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** `<dir>/<base>.gz`, else `<dir>/<base>` (an unpacked copy), else an error saying how to install it. */
async function findFile(dir: string, base: string): Promise<string> {
  const fs = await nodeFs();
  const path = (await nodePath()).join(dir, base);
  for (const candidate of [`${path}.gz`, path]) {
    try {
      await fs.access(candidate);
      return candidate;
    } catch {
      // try the next name
    }
  }
  return ioError(
    `loadFashionMnist: ${path}.gz not found. Install the Debian package: apt-get install dataset-fashion-mnist ` +
      `(tools/data installs it), or pass dir: the folder that holds ${base}.gz`,
  );
}

/** 32-bit FNV-1a of a string, as 8 hex digits (a short cache-key suffix, not a checksum of data). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/**
 * One split of Fashion-MNIST: `images` `[count, 28, 28]` u8 (0 = background, 255 = ink; no scaling),
 * `labels` in 0-9 indexing FASHION_MNIST_CLASSES. Throws IO_ERROR naming `apt-get install
 * dataset-fashion-mnist` when the files are missing, INVALID_ARGUMENT naming the file for a corrupt one.
 */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<ImageDataset> {
  const where = 'loadFashionMnist';
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    invalidArgument(`${where}: split must be 'train' or 'test', got ${String(split)}`);
  const dir = options.dir ?? FASHION_MNIST_DIR;
  if (typeof dir !== 'string' || dir === '')
    invalidArgument(`${where}: dir must be a folder path, got ${String(dir)}`);
  const [imagesBase, labelsBase] = FILES[split];
  const cacheOptions = options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir };
  const fs = await nodeFs();
  const load = async (base: string) => {
    const path = await findFile(dir, base);
    // the key holds the source's path, size and time, so a sample folder and the real one, or a replaced
    // file, never share a cache entry
    const { size, mtimeMs } = await fs.stat(path);
    const key = `fashion-mnist.${base}.${fnv1a(`${path}|${size}|${mtimeMs}`)}.v1.idx`;
    return { bytes: await io.cachedBytes(key, cacheOptions, () => readIdxFileBytes(path)), name: path };
  };
  const imagesFile = await load(imagesBase);
  const labelsFile = await load(labelsBase);
  const images = readIdxImages(imagesFile.bytes, imagesFile.name);
  if (images.height !== 28 || images.width !== 28)
    invalidArgument(
      `${imagesFile.name}: images are ${images.height} x ${images.width}, Fashion-MNIST's are 28 x 28`,
    );
  const labels = readIdxLabels(labelsFile.bytes, FASHION_MNIST_CLASSES.length, labelsFile.name);
  if (labels.length !== images.count)
    invalidArgument(
      `${where}: ${imagesFile.name} has ${images.count} images but ${labelsFile.name} has ${labels.length} labels`,
    );
  return {
    images: images.data,
    labels,
    count: images.count,
    height: 28,
    width: 28,
    classes: FASHION_MNIST_CLASSES,
  };
}

export interface ValidationSplitOptions {
  /** Fraction held out for validation, in [0, 1). Default 0.1. */
  validationFraction?: number;
  /** Default 0. */
  seed?: number;
}

/**
 * A seeded train / validation split of a dataset (Fisher-Yates with core's seededUniform): the same seed
 * gives the same split everywhere. round(count x validationFraction) examples are held out; both parts are
 * copies in shuffled order.
 */
export function splitValidation(
  dataset: ImageDataset,
  options: ValidationSplitOptions = {},
): { train: ImageDataset; validation: ImageDataset } {
  const where = 'splitValidation';
  const fraction = options.validationFraction ?? 0.1;
  const seed = options.seed ?? 0;
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1))
    invalidArgument(`${where}: validationFraction must be a number in [0, 1), got ${String(fraction)}`);
  if (!Number.isInteger(seed)) invalidArgument(`${where}: seed must be an integer, got ${String(seed)}`);
  const { count, height, width } = dataset;
  const pixels = height * width;
  if (dataset.images.length !== count * pixels || dataset.labels.length !== count)
    invalidArgument(
      `${where}: dataset has ${dataset.images.length} pixels and ${dataset.labels.length} labels, expected ` +
        `${count} x ${height} x ${width} and ${count}`,
    );
  const order = Array.from({ length: count }, (_, i) => i);
  const random = seededUniform(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const held = Math.round(count * fraction);
  const take = (indices: number[]): ImageDataset => {
    const images = new Uint8Array(indices.length * pixels);
    const labels = new Uint8Array(indices.length);
    indices.forEach((index, k) => {
      images.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), k * pixels);
      labels[k] = dataset.labels[index]!;
    });
    return { images, labels, count: indices.length, height, width, classes: dataset.classes };
  };
  return { train: take(order.slice(held)), validation: take(order.slice(0, held)) };
}
