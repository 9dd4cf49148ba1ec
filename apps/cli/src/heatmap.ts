/**
 * Attention heatmaps as PNG: one panel per head, side by side, query rows down and key columns across,
 * each weight a square cell colored by viridis (perceptually uniform, readable in grey and by most
 * color-blind readers), the tokens' characters along the top and the left in a small built-in bitmap
 * font (so no system fonts are needed). The raw RGB buffer is encoded by sharp.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** matplotlib's viridis at 0, 1/8, ..., 1 (linear interpolation between). */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

export function viridis(x: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as [number, number, number];
}

/** 5 x 7 glyphs for the names alphabet ('#' = ink). */
const GLYPHS: Record<string, string> = {
  a: '...........###.....#.#####...#.####',
  b: '#....#....####.#...##...##...#####.',
  c: '...........###.#....#....#.....###.',
  d: '....#....#.#####...##...##...#.####',
  e: '...........###.#...#######.....###.',
  f: '..##..#...####..#....#....#....#...',
  g: '......#####...##...#.####....#.###.',
  h: '#....#....####.#...##...##...##...#',
  i: '..#........##....#....#....#...###.',
  j: '...#........##....#....#.#..#..##..',
  k: '#....#....#..#.#.#..##...#.#..#..#.',
  l: '.##....#....#....#....#....#...###.',
  m: '..........##.#.#.#.##.#.##.#.##.#.#',
  n: '..........####.#...##...##...##...#',
  o: '...........###.#...##...##...#.###.',
  p: '.....####.#...##...#####.#....#....',
  q: '......#####...##...#.####....#....#',
  r: '..........#.##.##..##....#....#....',
  s: '...........#####.....###.....#####.',
  t: '.#....#...####..#....#....#..#..##.',
  u: '..........#...##...##...##..##.##.#',
  v: '..........#...##...##...#.#.#...#..',
  w: '..........#...##...##.#.##.#.#.#.#.',
  x: '..........#...#.#.#...#...#.#.#...#',
  y: '.....#...##...##...#.####....#.###.',
  z: '..........#####...#...#...#...#####',
  '-': '...............#####...............',
  '.': '..........................##...##..',
};
const GLYPH_W = 5;
const GLYPH_H = 7;

export interface RgbImage {
  width: number;
  height: number;
  /** RGB, row-major, 3 bytes a pixel. */
  data: Uint8Array;
}

export interface HeatmapOptions {
  /** Pixels per attention weight (default 24). */
  cell?: number;
  /** Pixels per font dot (default 2). */
  fontScale?: number;
}

/**
 * `weights` [heads, T, T] row-major (query i, key j), `labels` the T tokens as text. Colors are the
 * probabilities themselves (0 dark, 1 bright): each row sums to 1, so rows compare across heads.
 */
export function attentionImage(
  weights: Float32Array,
  heads: number,
  labels: readonly string[],
  opts: HeatmapOptions = {},
): RgbImage {
  const T = labels.length;
  if (weights.length !== heads * T * T) {
    throw new Error(`attentionImage: ${weights.length} weights; expected heads ${heads} x ${T} x ${T}`);
  }
  const cell = opts.cell ?? 24;
  const scale = opts.fontScale ?? 2;
  const margin = (GLYPH_H + 3) * scale; // room for a row of labels
  const gap = 3 * scale * GLYPH_W;
  const panel = margin + T * cell;
  const width = heads * panel + (heads - 1) * gap + 2 * scale;
  const height = panel + 2 * scale;
  const data = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, rgb: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    data.set(rgb, (y * width + x) * 3);
  };
  const glyph = (char: string, x0: number, y0: number) => {
    const bits = GLYPHS[char.toLowerCase()];
    if (!bits) return;
    for (let gy = 0; gy < GLYPH_H; gy++)
      for (let gx = 0; gx < GLYPH_W; gx++)
        if (bits[gy * GLYPH_W + gx] === '#')
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++) put(x0 + gx * scale + dx, y0 + gy * scale + dy, [0, 0, 0]);
  };
  for (let h = 0; h < heads; h++) {
    const px = scale + h * (panel + gap) + margin;
    const py = scale + margin;
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const w = weights[(h * T + i) * T + j]!;
        // causal: keys after the query get no weight; a light grey shows them apart from weight 0
        const rgb = j > i ? [235, 235, 235] : viridis(w);
        for (let y = 1; y < cell; y++)
          for (let x = 1; x < cell; x++) put(px + j * cell + x, py + i * cell + y, rgb);
      }
    }
    const inset = Math.floor((cell - GLYPH_W * scale) / 2);
    for (let t = 0; t < T; t++) {
      glyph(labels[t]!, px + t * cell + inset, py - margin + scale); // keys along the top
      glyph(labels[t]!, px - margin + scale, py + t * cell + Math.floor((cell - GLYPH_H * scale) / 2)); // queries
    }
  }
  return { width, height, data };
}

/** Encodes the image as PNG at `path` (folders made as needed). */
export async function writePng(path: string, image: RgbImage): Promise<void> {
  const { default: sharp } = await import('sharp');
  await mkdir(dirname(path), { recursive: true });
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toFile(path);
}
