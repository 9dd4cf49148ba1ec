/**
 * Attention heatmaps on a canvas: one head's `[queries, keys]` weights as cells coloured by viridis
 * (scaled to the head's largest weight so that structure shows in long rows), the positions' labels
 * along the left (queries) and the top (keys), and the cell under a point for hover and keyboard readout.
 */

/** Viridis (matplotlib's perceptually uniform map), 9 stops. */
const VIRIDIS: [number, number, number][] = [
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

export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i]!, VIRIDIS[i + 1]!];
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as [number, number, number];
}

/** Labels as drawn: whitespace made visible, long ones cut. */
export function shownLabel(label: string): string {
  const visible = label.replace(/ /g, '\u2423').replace(/\n/g, '\u23ce').replace(/\t/g, '\u21e5');
  return visible.length > 10 ? `${visible.slice(0, 9)}\u2026` : visible;
}

export interface HeatmapLayout {
  left: number;
  top: number;
  cell: number;
  rows: number;
  cols: number;
}

const FONT = '11px ui-monospace, monospace';

/** Cell size in CSS pixels: about 260 pixels across, between 3 and 26 a cell. */
export function cellSize(n: number): number {
  return Math.max(3, Math.min(26, Math.floor(260 / Math.max(1, n))));
}

/**
 * Draws weights[offset + i * cols + j] for i < rows, j < cols. Labels are drawn when cells are tall
 * enough to read them (every k-th otherwise).
 */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  weights: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  rowLabels: readonly string[],
  colLabels: readonly string[],
): HeatmapLayout {
  const cell = cellSize(Math.max(rows, cols));
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  g.font = FONT;
  const widest = (labels: readonly string[]) =>
    Math.min(70, Math.max(8, ...labels.map((l) => g.measureText(shownLabel(l)).width)));
  const left = Math.ceil(widest(rowLabels)) + 8;
  const top = Math.ceil(widest(colLabels)) + 8;
  const ratio = globalThis.devicePixelRatio || 1;
  const width = left + cols * cell + 4;
  const height = top + rows * cell + 4;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  let max = 0;
  for (let k = 0; k < rows * cols; k++) max = Math.max(max, weights[offset + k]!);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const [r, gr, b] = viridis(max > 0 ? weights[offset + i * cols + j]! / max : 0);
      g.fillStyle = `rgb(${r},${gr},${b})`;
      g.fillRect(left + j * cell, top + i * cell, cell, cell);
    }
  }
  g.font = FONT;
  g.fillStyle = '#222';
  const step = Math.max(1, Math.ceil(12 / cell)); // labels 12 pixels apart at least
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let i = 0; i < rows; i += step)
    g.fillText(shownLabel(rowLabels[i] ?? String(i)), left - 4, top + (i + 0.5) * cell);
  g.save();
  g.rotate(-Math.PI / 2);
  g.textAlign = 'left';
  for (let j = 0; j < cols; j += step)
    g.fillText(shownLabel(colLabels[j] ?? String(j)), -top + 4, left + (j + 0.5) * cell);
  g.restore();
  return { left, top, cell, rows, cols };
}

/** The [query, key] cell at a point in CSS pixels of the canvas, or null outside the cells. */
export function cellAt(layout: HeatmapLayout, x: number, y: number): [number, number] | null {
  const i = Math.floor((y - layout.top) / layout.cell);
  const j = Math.floor((x - layout.left) / layout.cell);
  return i >= 0 && j >= 0 && i < layout.rows && j < layout.cols ? [i, j] : null;
}

/** Outlines one cell (the hovered or keyboard-selected one). */
export function outlineCell(canvas: HTMLCanvasElement, layout: HeatmapLayout, i: number, j: number): void {
  const g = canvas.getContext('2d')!;
  g.strokeStyle = '#e11d48';
  g.lineWidth = 2;
  g.strokeRect(
    layout.left + j * layout.cell + 1,
    layout.top + i * layout.cell + 1,
    layout.cell - 2,
    layout.cell - 2,
  );
}
