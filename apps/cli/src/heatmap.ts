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
  /** Labels of the query rows (default: the key labels). */
  queryLabels?: readonly string[];
  /** Keys after the query carry no weight by construction: drawn light grey apart from weight 0. */
  causal?: boolean;
  /** Pixels per attention weight (default: 24, less for long sequences so a panel stays near 800 px). */
  cell?: number;
  /** Pixels per font dot (default 2). */
  fontScale?: number;
}

/**
 * `weights` [heads, Nq, Nk] row-major (query i, key j), `labels` the Nk keys as text. Colors are the
 * probabilities themselves (0 dark, 1 bright): each row sums to 1, so rows compare across heads.
 * Labels are drawn where a cell is wide enough for a character: their first character, in the font.
 */
export function attentionImage(
  weights: Float32Array,
  heads: number,
  labels: readonly string[],
  opts: HeatmapOptions = {},
): RgbImage {
  const rowsLabels = opts.queryLabels ?? labels;
  const [Nq, Nk] = [rowsLabels.length, labels.length];
  if (weights.length !== heads * Nq * Nk) {
    throw new Error(`attentionImage: ${weights.length} weights; expected heads ${heads} x ${Nq} x ${Nk}`);
  }
  const cell = opts.cell ?? Math.max(2, Math.min(24, Math.floor(800 / Math.max(Nq, Nk))));
  const scale = opts.fontScale ?? 2;
  const withLabels = cell >= GLYPH_W * scale + 2;
  const margin = withLabels ? (GLYPH_H + 3) * scale : 0; // room for a row of labels
  const gap = 3 * scale * GLYPH_W;
  const [panelW, panelH] = [margin + Nk * cell, margin + Nq * cell];
  const width = heads * panelW + (heads - 1) * gap + 2 * scale;
  const height = panelH + 2 * scale;
  const data = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, rgb: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    data.set(rgb, (y * width + x) * 3);
  };
  const glyph = (text: string, x0: number, y0: number) => {
    const bits = GLYPHS[[...text][0]?.toLowerCase() ?? ''];
    if (!bits) return;
    for (let gy = 0; gy < GLYPH_H; gy++)
      for (let gx = 0; gx < GLYPH_W; gx++)
        if (bits[gy * GLYPH_W + gx] === '#')
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++) put(x0 + gx * scale + dx, y0 + gy * scale + dy, [0, 0, 0]);
  };
  const border = cell >= 6 ? 1 : 0; // a white grid line between cells when they are big enough to show it
  // bottom-right causal alignment when Nq < Nk (decode): query i sees keys j <= i + Nk - Nq
  const shift = Nk - Nq;
  for (let h = 0; h < heads; h++) {
    const px = scale + h * (panelW + gap) + margin;
    const py = scale + margin;
    for (let i = 0; i < Nq; i++) {
      for (let j = 0; j < Nk; j++) {
        const w = weights[(h * Nq + i) * Nk + j]!;
        const rgb = opts.causal && j > i + shift ? [235, 235, 235] : viridis(w);
        for (let y = border; y < cell; y++)
          for (let x = border; x < cell; x++) put(px + j * cell + x, py + i * cell + y, rgb);
      }
    }
    if (!withLabels) continue;
    const inset = Math.floor((cell - GLYPH_W * scale) / 2);
    for (let t = 0; t < Nk; t++) glyph(labels[t]!, px + t * cell + inset, py - margin + scale); // keys along the top
    for (let t = 0; t < Nq; t++)
      glyph(rowsLabels[t]!, px - margin + scale, py + t * cell + Math.floor((cell - GLYPH_H * scale) / 2));
  }
  return { width, height, data };
}

/**
 * A map over a grid (attention rollout over patches) drawn over an image: the map upsampled to the
 * image's size (nearest cell), normalized to [0, 1], viridis, blended with the grey image at `alpha`.
 */
export function overlayImage(
  background: { width: number; height: number; channels: 1 | 3 | 4; data: Uint8Array },
  map: Float32Array,
  grid: readonly [number, number],
  opts: { alpha?: number; scale?: number } = {},
): RgbImage {
  const [rows, cols] = grid;
  if (map.length !== rows * cols)
    throw new Error(`overlayImage: ${map.length} values; expected ${rows} x ${cols}`);
  const alpha = opts.alpha ?? 0.55;
  const scale = opts.scale ?? Math.max(1, Math.floor(448 / Math.max(background.width, background.height)));
  const [w0, h0, c0] = [background.width, background.height, background.channels];
  const [width, height] = [w0 * scale, h0 * scale];
  let [lo, hi] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const v of map) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const span = hi > lo ? hi - lo : 1;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = [Math.floor(x / scale), Math.floor(y / scale)];
      const base = (sy * w0 + sx) * c0;
      const grey =
        c0 >= 3
          ? (background.data[base]! + background.data[base + 1]! + background.data[base + 2]!) / 3
          : background.data[base]!;
      const cell =
        Math.min(rows - 1, Math.floor((sy * rows) / h0)) * cols +
        Math.min(cols - 1, Math.floor((sx * cols) / w0));
      const color = viridis((map[cell]! - lo) / span);
      for (let c = 0; c < 3; c++)
        data[(y * width + x) * 3 + c] = Math.round((1 - alpha) * grey + alpha * color[c]!);
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
