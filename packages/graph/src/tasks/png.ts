/**
 * PNG out without an image library (graph does not depend on sharp): chunks as the PNG specification
 * (ISO/IEC 15948, W3C PNG 2nd ed.) lays them out, scanlines with filter 0, compressed by the Compression
 * Streams API's 'deflate' (a zlib stream, RFC 1950, what IDAT holds), which Node 20 and every current
 * browser have. So a task's run can return its picture as an artifact in both places, and the CLI and
 * the playground show it with no code of their own. Also a heatmap of a matrix in matplotlib's viridis.
 */
import type { tasks } from '@multihead/core';
import { invalidArgument } from '../errors.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, the one PNG and zlib's crc32 use). */
export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return c ^ 0xffffffff;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream === 'undefined')
    invalidArgument('encodePng: needs CompressionStream (Node 18+ or a current browser)');
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typed = new TextEncoder().encode(type);
  out.set(typed, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

/** An 8-bit gray, RGB or RGBA PNG of `image`. */
export async function encodePng(image: tasks.Pixels): Promise<Uint8Array> {
  const { width, height, channels, data } = image;
  if (
    !(
      Number.isInteger(width) &&
      Number.isInteger(height) &&
      width >= 1 &&
      height >= 1 &&
      width * height <= 1 << 26
    )
  )
    invalidArgument(
      `encodePng: width ${width} and height ${height} must be positive integers, at most 2^26 pixels`,
    );
  if (![1, 3, 4].includes(channels))
    invalidArgument(`encodePng: channels must be 1, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels)
    invalidArgument(
      `encodePng: ${data.length} bytes for ${width} x ${height} x ${channels}; expected ${width * height * channels}`,
    );
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6; // gray, truecolor, truecolor with alpha
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1)); // filter byte 0 (None) before each scanline
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', await deflate(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** matplotlib 3.6.3's viridis at 9 evenly spaced points (cm.get_cmap('viridis')(k / 8), rounded to 0-255). */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 45, 123],
  [59, 82, 139],
  [44, 114, 142],
  [33, 145, 140],
  [40, 174, 128],
  [94, 201, 98],
  [173, 220, 48],
  [253, 231, 37],
];

/**
 * A `rows` x `cols` matrix as RGB pixels in viridis (its minimum dark purple, its maximum yellow), each
 * cell `cellSize` pixels square.
 */
export function heatmapPixels(values: Float32Array, rows: number, cols: number, cellSize = 1): tasks.Pixels {
  if (values.length !== rows * cols)
    invalidArgument(`heatmapPixels: ${values.length} values for ${rows} x ${cols}`);
  if (!Number.isInteger(cellSize) || cellSize < 1)
    invalidArgument(`heatmapPixels: cellSize must be a positive integer`);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const span = hi > lo ? hi - lo : 1;
  const width = cols * cellSize;
  const height = rows * cellSize;
  const data = new Uint8Array(width * height * 3);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      const t = Number.isFinite(v) ? ((v - lo) / span) * (VIRIDIS.length - 1) : 0;
      const k = Math.min(VIRIDIS.length - 2, Math.floor(t));
      const f = t - k;
      const color = [0, 1, 2].map((ch) => Math.round(VIRIDIS[k]![ch]! * (1 - f) + VIRIDIS[k + 1]![ch]! * f));
      for (let y = r * cellSize; y < (r + 1) * cellSize; y++)
        for (let x = c * cellSize; x < (c + 1) * cellSize; x++) data.set(color, (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}
