import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MultiheadError } from '@multihead/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  readIdx,
  readIdxFileBytes,
  readIdxImages,
  readIdxLabels,
} from '../src/index.js';

/** IDX bytes: magic 0x0000 TT NN, big-endian dims, then `body` as given. */
function idx(type: number, dims: number[], body: number[] | Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d);
  return Uint8Array.from([...header, ...body]);
}

function bigEndian(
  bytesPer: number,
  write: (view: DataView, at: number, v: number) => void,
  values: number[],
) {
  const out = new Uint8Array(values.length * bytesPer);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) write(view, i * bytesPer, v);
  return out;
}

describe('readIdx', () => {
  it('reads every IDX element type, big-endian, with its dims', () => {
    expect(readIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5, 255]))).toEqual({
      type: 'u8',
      dims: [2, 3],
      data: Uint8Array.from([1, 2, 3, 4, 5, 255]),
    });
    expect(Array.from(readIdx(idx(0x09, [2], [0x7f, 0x80])).data)).toEqual([127, -128]);
    const i16 = bigEndian(2, (v, at, x) => v.setInt16(at, x), [-2, 300]);
    expect(Array.from(readIdx(idx(0x0b, [2], i16)).data)).toEqual([-2, 300]);
    const i32 = bigEndian(4, (v, at, x) => v.setInt32(at, x), [-70000, 123456789]);
    expect(Array.from(readIdx(idx(0x0c, [1, 2], i32)).data)).toEqual([-70000, 123456789]);
    const f32 = bigEndian(4, (v, at, x) => v.setFloat32(at, x), [1.5, -0.25]);
    expect(readIdx(idx(0x0d, [2], f32)).data).toEqual(Float32Array.from([1.5, -0.25]));
    const f64 = bigEndian(8, (v, at, x) => v.setFloat64(at, x), [Math.PI]);
    expect(readIdx(idx(0x0e, [1], f64))).toEqual({
      type: 'f64',
      dims: [1],
      data: Float64Array.from([Math.PI]),
    });
  });

  it('refuses what is not IDX, naming the file and the magic number', () => {
    const name = 'x.idx';
    expect(() => readIdx(new Uint8Array(3), { name })).toThrow(
      /x.idx: truncated IDX file \(3 bytes; the magic number needs 4\)/,
    );
    expect(() => readIdx(Uint8Array.from([0x1f, 0x8b, 8, 0]), { name })).toThrow(
      /x.idx: not an IDX file \(magic number 0x1f8b0800;/,
    );
    expect(() => readIdx(idx(0x0a, [1], [0]), { name })).toThrow(/not an IDX file \(magic number 0x00000a01/);
    expect(() => readIdx(idx(0x08, [], []), { name })).toThrow(/not an IDX file \(magic number 0x00000800/);
    expect(() => readIdx(idx(0x08, [1], [0]), { name, magic: IDX_IMAGES_MAGIC })).toThrow(
      /x.idx: magic number 0x00000801, expected 0x00000803/,
    );
  });

  it('refuses truncated and over-long files, and huge claims without allocating them', () => {
    const full = idx(0x08, [2, 2], [1, 2, 3, 4]);
    expect(() => readIdx(full.subarray(0, full.length - 1), { name: 'f' })).toThrow(
      /f: truncated: the header says \[2, 2\] u8 = 4 bytes of data, the file has 3 after the 12-byte header/,
    );
    expect(() => readIdx(Uint8Array.from([...full, 0]), { name: 'f' })).toThrow(
      /f: too long: .* the file has 5 after/,
    );
    expect(() => readIdx(full.subarray(0, 9), { name: 'f' })).toThrow(
      /f: truncated IDX header \(9 bytes; 2 dimensions need 12\)/,
    );
    const huge = idx(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], [1, 2, 3]);
    expect(() => readIdx(huge, { name: 'f' })).toThrow(
      /truncated: the header says \[4294967295, 4294967295, 4294967295\] f64/,
    );
  });

  it('readIdxImages / readIdxLabels check the MNIST magic numbers and the label range', () => {
    const images = readIdxImages(idx(0x08, [2, 1, 3], [1, 2, 3, 4, 5, 6]));
    expect(images).toEqual({ data: Uint8Array.from([1, 2, 3, 4, 5, 6]), count: 2, height: 1, width: 3 });
    expect(IDX_LABELS_MAGIC).toBe(0x801);
    expect(Array.from(readIdxLabels(idx(0x08, [3], [0, 9, 4]), 10))).toEqual([0, 9, 4]);
    expect(() => readIdxLabels(idx(0x08, [3], [0, 10, 4]), 10, 'labels.idx')).toThrow(
      /labels.idx: label 10 at index 1 is out of range \(10 classes: 0-9\)/,
    );
    expect(() => readIdxImages(idx(0x08, [3], [0, 1, 2]), 'images.idx')).toThrow(
      /images.idx: magic number 0x00000801, expected 0x00000803/,
    );
  });
});

describe('readIdxFileBytes', () => {
  let dir = '';
  const body = idx(
    0x08,
    [4, 2, 2],
    Array.from({ length: 16 }, (_, i) => i * 9),
  );
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vision-idx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true });
  });

  it('reads plain and gzipped files to the same bytes', async () => {
    await writeFile(join(dir, 'plain'), body);
    await writeFile(join(dir, 'packed.gz'), gzipSync(body));
    expect(await readIdxFileBytes(join(dir, 'plain'))).toEqual(body);
    expect(await readIdxFileBytes(join(dir, 'packed.gz'))).toEqual(body);
  });

  it('refuses truncated and corrupt gzip data, a gzip bomb past maxBytes, and missing files', async () => {
    const gz = gzipSync(body);
    await writeFile(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 6));
    await expect(readIdxFileBytes(join(dir, 'cut.gz'))).rejects.toThrow(
      /cut.gz: corrupt or truncated gzip data \(unexpected end of file\)/,
    );
    const flipped = Uint8Array.from(gz);
    flipped[gz.length - 8] = flipped[gz.length - 8]! ^ 0xff; // the CRC-32 of the trailer
    await writeFile(join(dir, 'crc.gz'), flipped);
    await expect(readIdxFileBytes(join(dir, 'crc.gz'))).rejects.toThrow(
      /crc.gz: corrupt or truncated gzip data \(incorrect data check\)/,
    );
    await writeFile(join(dir, 'bomb.gz'), gzipSync(new Uint8Array(1 << 20)));
    const error = await readIdxFileBytes(join(dir, 'bomb.gz'), { maxBytes: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultiheadError);
    expect((error as Error).message).toMatch(
      /bomb.gz: corrupt or truncated gzip data \(larger than maxBytes 1000 when decompressed\)/,
    );
    await expect(readIdxFileBytes(join(dir, 'missing.gz'))).rejects.toThrow(
      /cannot read IDX file .*missing.gz: ENOENT/,
    );
  });
});
