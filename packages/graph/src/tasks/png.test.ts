/** The PNG encoder checked by taking its files apart with Node's zlib: chunks, CRCs, pixels. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectError, expectRejection } from '../../test/expect-error.js';
import { crc32, encodePng, heatmapPixels } from './png.js';

function chunks(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array; crc: number }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length), crc: view.getUint32(at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

describe('encodePng', () => {
  it('computes CRC-32 as zlib does', () => {
    expect(crc32(new TextEncoder().encode('IEND')) >>> 0).toBe(0xae426082); // every PNG's last 4 bytes
    expect(crc32(new TextEncoder().encode('123456789')) >>> 0).toBe(0xcbf43926); // the CRC-32 check value
  });

  it('writes signature, IHDR, IDAT and IEND with valid CRCs, and the pixels back out of the zlib stream', async () => {
    const data = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);
    const png = await encodePng({ width: 3, height: 2, channels: 3, data });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const parts = chunks(png);
    expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (const c of parts) {
      const typed = new Uint8Array([...new TextEncoder().encode(c.type), ...c.data]);
      expect(c.crc).toBe(crc32(typed) >>> 0);
    }
    const header = new DataView(parts[0]!.data.buffer, parts[0]!.data.byteOffset);
    expect([header.getUint32(0), header.getUint32(4), parts[0]!.data[8], parts[0]!.data[9]]).toEqual([
      3, 2, 8, 2,
    ]);
    const raw = inflateSync(parts[1]!.data);
    expect(Array.from(raw)).toEqual([0, ...data.subarray(0, 9), 0, ...data.subarray(9)]);
    const gray = chunks(await encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array([7]) }));
    expect(gray[0]!.data[9]).toBe(0);
  });

  it('refuses sizes that do not match and bad channel counts', async () => {
    await expectRejection(
      encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }),
      /5 bytes for 2 x 2 x 3/,
    );
    await expectRejection(
      encodePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }),
      /positive integers/,
    );
    await expectRejection(
      encodePng({ width: 1, height: 1, channels: 2 as 1, data: new Uint8Array(2) }),
      /channels must be 1, 3 or 4/,
    );
  });
});

describe('heatmapPixels', () => {
  it('draws the minimum dark purple and the maximum yellow (viridis), cells of cellSize', () => {
    const image = heatmapPixels(new Float32Array([0, 1, 0.5, 0.25]), 2, 2, 2);
    expect([image.width, image.height, image.channels]).toEqual([4, 4, 3]);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([68, 1, 84]);
    expect(Array.from(image.data.subarray(2 * 3, 3 * 3))).toEqual([253, 231, 37]);
    expect(Array.from(image.data.subarray((2 * 4 + 0) * 3, (2 * 4 + 0) * 3 + 3))).toEqual([33, 145, 140]); // 0.5
    expectError(() => heatmapPixels(new Float32Array(3), 2, 2), /3 values for 2 x 2/);
  });
});
