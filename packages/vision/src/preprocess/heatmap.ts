/**
 * Heatmaps over images, for attention maps (a ViT's attention rollout, Abnar & Zuidema 2020, is one value
 * per patch: an [h, w] map much smaller than the image). The map is upsampled to the image's size,
 * scaled to [0, 1], colored with a colormap and alpha-blended over the image.
 */
import { INFERNO_HEX, VIRIDIS_HEX } from './colormaps.js';
import { checkPositiveInteger, describeType, invalidArgument } from './errors.js';
import { checkRgbaImage, type RgbaImage } from './pixels.js';
import { resizePlanes } from './resample.js';

export type Colormap = 'viridis' | 'inferno' | 'gray';

const TABLES: Record<Colormap, Uint8Array> = {
  viridis: hexTable(VIRIDIS_HEX),
  inferno: hexTable(INFERNO_HEX),
  gray: Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3)),
};

function hexTable(hex: string): Uint8Array {
  const table = new Uint8Array(hex.length / 2);
  for (let i = 0; i < table.length; i++) table[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return table;
}

/**
 * The color of `value` in [0, 1] (clamped; NaN gives the lowest color): entry floor(value x 256), at most
 * 255, of the colormap's 256-entry table, the entry matplotlib's `Colormap(value)` picks.
 */
export function colormapColor(value: number, colormap: Colormap = 'viridis'): [number, number, number] {
  const table = TABLES[colormap];
  if (table === undefined)
    invalidArgument(
      `colormapColor: colormap must be 'viridis', 'inferno' or 'gray', got ${String(colormap)}`,
    );
  const index = Number.isNaN(value) ? 0 : Math.min(255, Math.max(0, Math.floor(value * 256)));
  return [table[3 * index]!, table[3 * index + 1]!, table[3 * index + 2]!];
}

export interface HeatmapMap {
  data: Float32Array | Float64Array | readonly number[];
  height: number;
  width: number;
}

export interface HeatmapOptions {
  /** Default 'viridis'. */
  colormap?: Colormap;
  /** Weight of the heatmap's color in the blend, in [0, 1]. Default 0.5. */
  alpha?: number;
  /** Map values that become colormap 0 and 1. Default: the map's own min and max (a flat map gives 0). */
  range?: readonly [low: number, high: number];
  /** 'bilinear' (default, a smooth map) or 'nearest' (each map cell as a block, e.g. one per patch). */
  upsample?: 'bilinear' | 'nearest';
}

function checkMap(map: HeatmapMap, where: string): void {
  if (typeof map !== 'object' || map === null)
    invalidArgument(`${where}: map must be { data, height, width }, got ${describeType(map)}`);
  checkPositiveInteger(map.height, 'map.height', where);
  checkPositiveInteger(map.width, 'map.width', where);
  if (map.data?.length !== map.height * map.width)
    invalidArgument(
      `${where}: map.data has ${map.data?.length} values, expected height x width = ${map.height} x ${map.width}`,
    );
}

/** The map resized to `height` x `width` and scaled to [0, 1] by `range` (default: its min and max). */
export function scaledHeatmap(
  map: HeatmapMap,
  height: number,
  width: number,
  options: Pick<HeatmapOptions, 'range' | 'upsample'> = {},
): Float32Array {
  const where = 'scaledHeatmap';
  checkMap(map, where);
  const source = Float32Array.from(map.data);
  const upsample = options.upsample ?? 'bilinear';
  let values: Float32Array;
  if (upsample === 'bilinear')
    values = resizePlanes(source, 1, map.height, map.width, height, width, 'bilinear');
  else if (upsample === 'nearest') {
    // the map cell whose area holds the pixel's center
    values = new Float32Array(height * width);
    for (let y = 0; y < height; y++) {
      const row = Math.min(map.height - 1, Math.floor(((y + 0.5) * map.height) / height));
      for (let x = 0; x < width; x++)
        values[y * width + x] =
          source[row * map.width + Math.min(map.width - 1, Math.floor(((x + 0.5) * map.width) / width))]!;
    }
  } else
    return invalidArgument(`${where}: upsample must be 'bilinear' or 'nearest', got ${String(upsample)}`);
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  if (options.range) [low, high] = options.range;
  else for (const v of source) if (Number.isFinite(v)) [low, high] = [Math.min(low, v), Math.max(high, v)];
  if (options.range && !(Number.isFinite(low) && Number.isFinite(high) && high > low))
    invalidArgument(`${where}: range must be [low, high] with finite low < high, got [${low}, ${high}]`);
  const span = high > low ? high - low : 0;
  for (let i = 0; i < values.length; i++)
    values[i] = span > 0 ? Math.min(1, Math.max(0, (values[i]! - low) / span)) : 0;
  return values;
}

/** The map alone, colored, at `height` x `width` (default: the map's own size). */
export function colorizeHeatmap(
  map: HeatmapMap,
  options: Omit<HeatmapOptions, 'alpha'> & { height?: number; width?: number } = {},
): RgbaImage {
  const height = options.height ?? map?.height;
  const width = options.width ?? map?.width;
  checkPositiveInteger(height, 'height', 'colorizeHeatmap');
  checkPositiveInteger(width, 'width', 'colorizeHeatmap');
  const values = scaledHeatmap(map, height!, width!, options);
  const colormap = options.colormap ?? 'viridis';
  const data = new Uint8Array(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    data.set(colormapColor(values[i]!, colormap), 4 * i);
    data[4 * i + 3] = 255;
  }
  return { width: width!, height: height!, data };
}

/**
 * The map upsampled over `image`, colored, and blended: out = (1 - alpha) x image + alpha x color per RGB
 * channel, rounded; the image's alpha is kept.
 */
export function heatmapOverlay(image: RgbaImage, map: HeatmapMap, options: HeatmapOptions = {}): RgbaImage {
  const where = 'heatmapOverlay';
  checkRgbaImage(image, where);
  const alpha = options.alpha ?? 0.5;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1))
    invalidArgument(`${where}: alpha must be a number in [0, 1], got ${String(alpha)}`);
  const { range, upsample, colormap } = options;
  const heat = colorizeHeatmap(map, {
    height: image.height,
    width: image.width,
    ...(range && { range }),
    ...(upsample && { upsample }),
    ...(colormap && { colormap }),
  });
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i += 4) {
    for (let c = 0; c < 3; c++)
      out[i + c] = Math.round((1 - alpha) * image.data[i + c]! + alpha * heat.data[i + c]!);
    out[i + 3] = image.data[i + 3]!;
  }
  return { width: image.width, height: image.height, data: out };
}
