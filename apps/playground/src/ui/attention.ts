/**
 * The attention explorer: for one input, every head of the chosen layer as a heatmap labelled by the
 * positions (tokens, patches, frames, residues, nodes); pointer hover or the arrow keys on a focused map
 * read one weight (query label, key label, value); when the task gives a rollout over a grid (images,
 * spectrograms), it is drawn over the input.
 */
import type { AttentionReport } from '@multihead/core';
import { field, h, mount } from './dom.js';
import { cellAt, drawHeatmap, type HeatmapLayout, outlineCell, shownLabel, viridis } from './heatmap.js';
import { pixelsToImageData } from './pixels.js';

/** The rollout (Abnar & Zuidema 2020) over its grid, blended onto the background the task gave. */
function rolloutOverlay(report: AttentionReport): HTMLElement | null {
  const { rollout, background, grid } = report;
  if (!rollout || !background || !grid) return null;
  const [rows, cols] = grid;
  const scale = Math.max(1, Math.floor(256 / background.width));
  const canvas = h('canvas', {
    width: background.width * scale,
    height: background.height * scale,
    role: 'img',
    'aria-label': `attention rollout over the input, ${rows} x ${cols} grid`,
    'data-testid': 'rollout',
  });
  const g = canvas.getContext('2d')!;
  const base = document.createElement('canvas');
  base.width = background.width;
  base.height = background.height;
  base.getContext('2d')!.putImageData(pixelsToImageData(background), 0, 0);
  g.imageSmoothingEnabled = false;
  g.drawImage(base, 0, 0, canvas.width, canvas.height);
  let max = 0;
  for (const v of rollout) max = Math.max(max, v);
  const cw = canvas.width / cols;
  const ch = canvas.height / rows;
  g.globalAlpha = 0.55;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [red, green, blue] = viridis(max > 0 ? rollout[r * cols + c]! / max : 0);
      g.fillStyle = `rgb(${red},${green},${blue})`;
      g.fillRect(c * cw, r * ch, cw, ch);
    }
  }
  return h('figure', null, canvas, h('figcaption', null, 'Attention rollout over the input'));
}

/** One head's map, with hover and keyboard readout into `readout`. */
function headMap(
  report: AttentionReport,
  layer: number,
  head: number,
  readout: HTMLOutputElement,
): HTMLElement {
  const map = report.layers.find((l) => l.layer === layer)!;
  const keys = report.labels;
  const queries = report.queryLabels ?? report.labels;
  const [nq, nk] = [queries.length, keys.length];
  const canvas = h('canvas', {
    tabIndex: 0,
    role: 'img',
    class: 'heatmap',
    'data-testid': 'heatmap',
    'aria-label': `Layer ${layer}, head ${head}: how much each of ${nq} queries attends to each of ${nk} keys. Arrow keys read one weight.`,
  });
  const offset = head * nq * nk;
  let layout: HeatmapLayout = drawHeatmap(canvas, map.weights, offset, nq, nk, queries, keys);
  let cursor: [number, number] = [nq - 1, 0];
  const show = (i: number, j: number) => {
    layout = drawHeatmap(canvas, map.weights, offset, nq, nk, queries, keys);
    outlineCell(canvas, layout, i, j);
    const value = map.weights[offset + i * nk + j]!;
    readout.value = `layer ${layer}, head ${head}: query ${JSON.stringify(shownLabel(queries[i] ?? ''))} (${i}) -> key ${JSON.stringify(shownLabel(keys[j] ?? ''))} (${j}): ${value.toFixed(4)}`;
  };
  canvas.addEventListener('pointermove', (e) => {
    const r = canvas.getBoundingClientRect();
    const hit = cellAt(layout, e.clientX - r.left, e.clientY - r.top);
    if (hit) {
      cursor = hit;
      show(...hit);
    }
  });
  canvas.addEventListener('keydown', (e) => {
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    cursor = [
      Math.min(nq - 1, Math.max(0, cursor[0] + move[0])),
      Math.min(nk - 1, Math.max(0, cursor[1] + move[1])),
    ];
    show(...cursor);
  });
  canvas.addEventListener('focus', () => show(...cursor));
  return h('figure', { class: 'head' }, canvas, h('figcaption', null, `head ${head}`));
}

export function attentionView(report: AttentionReport): HTMLElement {
  const readout = h('output', {
    class: 'readout',
    'aria-live': 'polite',
    'data-testid': 'attention-readout',
  });
  const heads = h('div', { class: 'heads' });
  const layers = report.layers.map((l) => l.layer);
  const select = h(
    'select',
    { 'data-testid': 'layer-select' },
    layers.map((l) => h('option', { value: String(l) }, `layer ${l}`)),
  );
  const render = () => {
    const layer = Number(select.value);
    const map = report.layers.find((l) => l.layer === layer)!;
    mount(
      heads,
      Array.from({ length: map.heads }, (_, head) => headMap(report, layer, head, readout)),
    );
  };
  select.addEventListener('change', render);
  select.value = String(layers.at(-1) ?? 0);
  render();
  const note = `${report.labels.length} ${report.positions}; ${report.numLayers} layers${report.causal ? '; causal: keys after a query get no weight' : ''}. Colours are scaled to each head's largest weight.`;
  return h(
    'div',
    { class: 'attention' },
    h('p', { class: 'hint' }, note),
    field('Layer', select),
    heads,
    readout,
    rolloutOverlay(report),
  );
}
