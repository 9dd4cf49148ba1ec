/**
 * The real loader on the committed sample (scripts/gen-fashion-sample.py: the first 30 train and 20 test
 * images of Debian's files, with labels, pixel sums and first ink rows read by Python). Corrupt variants are
 * written to a temporary folder. scripts/check-fashion.ts loads the real dataset.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MultiheadError } from '@multihead/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  datasetBatch,
  datasetRgba,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  type ImageDataset,
  loadFashionMnist,
  splitValidation,
} from '../src/index.js';
import { fixturePath } from './oracle.js';

const SAMPLE = fixturePath('fashion-mnist');
interface SplitOracle {
  count: number;
  fullCount: number;
  labels: number[];
  pixelSums: number[];
  firstInkRow: number[];
}
let oracle: { train: SplitOracle; test: SplitOracle };
let work = '';
let cacheDir = '';

beforeAll(async () => {
  oracle = JSON.parse(await readFile(join(SAMPLE, 'oracle.json'), 'utf8'));
  work = await mkdtemp(join(tmpdir(), 'vision-fashion-'));
  cacheDir = join(work, 'cache');
});
afterAll(async () => {
  await rm(work, { recursive: true });
});

/** A copy of the sample in a fresh folder, with `change(files)` applied to its decompressed files. */
async function variant(
  name: string,
  change: (files: Record<string, Uint8Array>) => void = () => {},
): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  const files: Record<string, Uint8Array> = {};
  for (const file of await readdir(SAMPLE))
    if (file.endsWith('.gz')) files[file] = new Uint8Array(gunzipSync(await readFile(join(SAMPLE, file))));
  change(files);
  for (const [file, bytes] of Object.entries(files)) await writeFile(join(dir, file), gzipSync(bytes));
  return dir;
}

function checkAgainstOracle(data: ImageDataset, expected: SplitOracle) {
  expect([data.count, data.height, data.width]).toEqual([expected.count, 28, 28]);
  expect(data.images.length).toBe(expected.count * 784);
  expect(Array.from(data.labels)).toEqual(expected.labels);
  const sums = Array.from({ length: data.count }, (_, i) =>
    data.images.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s + v, 0),
  );
  expect(sums).toEqual(expected.pixelSums);
  const inkRows = Array.from({ length: data.count }, (_, i) => {
    for (let r = 0; r < 28; r++)
      if (data.images.subarray(i * 784 + r * 28, i * 784 + r * 28 + 28).some((v) => v > 0)) return r;
    return -1;
  });
  expect(inkRows).toEqual(expected.firstInkRow);
}

describe('loadFashionMnist on the committed sample', () => {
  it('train and test splits equal what Python read from the same files', async () => {
    const train = await loadFashionMnist({ dir: SAMPLE, cacheDir: false });
    checkAgainstOracle(train, oracle.train);
    const test = await loadFashionMnist({ dir: SAMPLE, split: 'test', cacheDir: false });
    checkAgainstOracle(test, oracle.test);
    expect(train.classes).toEqual(FASHION_MNIST_CLASSES);
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
    expect([FASHION_MNIST_CLASSES[0], FASHION_MNIST_CLASSES[9]]).toEqual(['T-shirt/top', 'Ankle boot']);
    expect([oracle.train.fullCount, oracle.test.fullCount]).toEqual([60000, 10000]);
  });

  it('caches the decompressed files: a second load reads the cache, a changed source is read again', async () => {
    const dir = await variant('cached');
    const images = join(dir, 't10k-images-idx3-ubyte.gz');
    const when = new Date('2024-05-01T12:00:00Z'); // whole milliseconds, so utimes can set it back exactly
    await utimes(images, when, when);
    const first = await loadFashionMnist({ dir, split: 'test', cacheDir });
    const cached = (await readdir(cacheDir)).filter((f) => f.startsWith('fashion-mnist.t10k-'));
    expect(cached).toHaveLength(2);
    // replace the source with garbage of the same size and time: only the cache can give the data now
    const { size } = await stat(images);
    await writeFile(images, new Uint8Array(size).fill(0x1f));
    await utimes(images, when, when);
    const second = await loadFashionMnist({ dir, split: 'test', cacheDir });
    expect(second.images).toEqual(first.images);
    expect(second.labels).toEqual(first.labels);
    // a new modification time is a new source: it is read, and found corrupt
    await utimes(images, when, new Date(when.getTime() + 5000));
    await expect(loadFashionMnist({ dir, split: 'test', cacheDir })).rejects.toThrow(
      /t10k-images-idx3-ubyte.gz: not an IDX file/,
    );
  });

  it('an unpacked copy (no .gz) loads the same', async () => {
    const dir = join(work, 'unpacked');
    await mkdir(dir);
    for (const base of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      await writeFile(join(dir, base), gunzipSync(await readFile(join(SAMPLE, `${base}.gz`))));
    checkAgainstOracle(await loadFashionMnist({ dir, split: 'test', cacheDir: false }), oracle.test);
  });
});

describe('loadFashionMnist refuses missing and corrupt files with a message naming the file', () => {
  const refusal = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MultiheadError);
    expect([(error as MultiheadError).code, (error as Error).message]).toEqual([
      code,
      expect.stringMatching(message),
    ]);
  };

  it('a missing package names apt-get install dataset-fashion-mnist', async () => {
    await refusal(
      loadFashionMnist({ dir: join(work, 'nowhere'), cacheDir: false }),
      'IO_ERROR',
      /nowhere\/train-images-idx3-ubyte.gz not found. Install the Debian package: apt-get install dataset-fashion-mnist \(tools\/data installs it\)/,
    );
  });

  it('truncated images, swapped files, out-of-range labels, unequal counts, wrong image size', async () => {
    const images = 'train-images-idx3-ubyte.gz';
    const labels = 'train-labels-idx1-ubyte.gz';
    const cases: [string, (f: Record<string, Uint8Array>) => void, RegExp][] = [
      [
        'truncated',
        (f) => (f[images] = f[images]!.subarray(0, 16 + 784 * 30 - 1)),
        /train-images-idx3-ubyte.gz: truncated: the header says \[30, 28, 28\] u8 = 23520 bytes of data, the file has 23519/,
      ],
      [
        'swapped',
        (f) => ([f[images], f[labels]] = [f[labels]!, f[images]!]),
        /train-images-idx3-ubyte.gz: magic number 0x00000801, expected 0x00000803/,
      ],
      [
        'label-range',
        (f) => (f[labels]![8 + 7] = 10),
        /train-labels-idx1-ubyte.gz: label 10 at index 7 is out of range \(10 classes: 0-9\)/,
      ],
      [
        'counts',
        (f) => (f[labels] = f['t10k-labels-idx1-ubyte.gz']!),
        /has 30 images but .*train-labels-idx1-ubyte.gz has 20 labels/,
      ],
      [
        'size',
        (f) => {
          const bytes = f[images]!.slice();
          new DataView(bytes.buffer).setUint32(8, 56); // [30, 56, 14]: the same bytes, another shape
          new DataView(bytes.buffer).setUint32(12, 14);
          f[images] = bytes;
        },
        /train-images-idx3-ubyte.gz: images are 56 x 14, Fashion-MNIST's are 28 x 28/,
      ],
    ];
    for (const [name, change, message] of cases)
      await refusal(
        loadFashionMnist({ dir: await variant(name, change), cacheDir: false }),
        'INVALID_ARGUMENT',
        message,
      );
    const cut = join(work, 'cut-gzip');
    await mkdir(cut);
    const gz = await readFile(join(SAMPLE, images));
    await writeFile(join(cut, images), gz.subarray(0, gz.length >> 1));
    await copyFile(join(SAMPLE, labels), join(cut, labels));
    await refusal(
      loadFashionMnist({ dir: cut, cacheDir: false }),
      'INVALID_ARGUMENT',
      /cut-gzip\/train-images-idx3-ubyte.gz: corrupt or truncated gzip data \(unexpected end of file\)/,
    );
  });

  it('bad options', async () => {
    await refusal(
      loadFashionMnist({ split: 'valid' as unknown as 'train' }),
      'INVALID_ARGUMENT',
      /split must be 'train' or 'test', got valid/,
    );
    await refusal(loadFashionMnist({ dir: '' }), 'INVALID_ARGUMENT', /dir must be a folder path/);
  });
});

describe('splitValidation', () => {
  it('holds out round(n x fraction) examples, disjoint, seeded', async () => {
    const data = await loadFashionMnist({ dir: SAMPLE, cacheDir: false });
    const { train, validation } = splitValidation(data, { validationFraction: 0.2, seed: 3 });
    expect([train.count, validation.count]).toEqual([24, 6]);
    expect(train.images.length).toBe(24 * 784);
    // every example lands in exactly one part, with its own label (the sample's pixel sums are distinct)
    const key = (d: ImageDataset, i: number) =>
      `${d.images.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s + v, 0)}:${d.labels[i]}`;
    const all = Array.from({ length: data.count }, (_, i) => key(data, i)).sort();
    expect(new Set(all).size).toBe(30);
    const parts = [
      ...Array.from({ length: 24 }, (_, i) => key(train, i)),
      ...Array.from({ length: 6 }, (_, i) => key(validation, i)),
    ];
    expect(parts.sort()).toEqual(all);
    const again = splitValidation(data, { validationFraction: 0.2, seed: 3 });
    expect(again.validation.labels).toEqual(validation.labels);
    expect(again.validation.images).toEqual(validation.images);
    const other = splitValidation(data, { validationFraction: 0.2, seed: 4 });
    expect(other.validation.images).not.toEqual(validation.images);
    expect(splitValidation(data).validation.count).toBe(3);
    expect(() => splitValidation(data, { validationFraction: 1 })).toThrow(
      /validationFraction must be a number in \[0, 1\), got 1/,
    );
    expect(() => splitValidation(data, { seed: 0.5 })).toThrow(/seed must be an integer, got 0.5/);
  });
});

describe('datasetBatch and datasetRgba', () => {
  it('scale, normalize and label the chosen images; RGBA is the gray image', async () => {
    const data = await loadFashionMnist({ dir: SAMPLE, split: 'test', cacheDir: false });
    const batch = datasetBatch(data, [3, 0], { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
    expect(batch.shape).toEqual([2, 1, 28, 28]);
    expect(Array.from(batch.labels)).toEqual([oracle.test.labels[3], oracle.test.labels[0]]);
    for (const p of [0, 300, 783]) {
      expect(batch.data[p]).toBeCloseTo(
        (data.images[3 * 784 + p]! / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD,
        5,
      );
      expect(batch.data[784 + p]).toBeCloseTo(
        (data.images[p]! / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD,
        5,
      );
    }
    const plain = datasetBatch(data, Int32Array.from([1]));
    expect(plain.data.reduce((s, v) => s + v, 0) * 255).toBeCloseTo(oracle.test.pixelSums[1]!, 1);
    const rgba = datasetRgba(data, 1);
    expect([rgba.width, rgba.height]).toEqual([28, 28]);
    expect(Array.from(rgba.data.subarray(4 * 400, 4 * 401))).toEqual([
      ...new Array(3).fill(data.images[784 + 400]),
      255,
    ]);
    expect(() => datasetBatch(data, [20])).toThrow(/index 20 is out of range \(the dataset has 20 images\)/);
    expect(() => datasetBatch(data, [])).toThrow(/indices must be a non-empty array/);
    expect(() => datasetBatch(data, [0], { std: 0 })).toThrow(/std finite and positive, got mean 0, std 0/);
    expect(() => datasetRgba(data, -1)).toThrow(/datasetRgba: index -1 is out of range/);
  });
});
