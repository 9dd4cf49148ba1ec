/**
 * The image input: upload or drop a file (decoded here with `createImageBitmap`, EXIF orientation
 * applied) or draw on a canvas (white on black, as MNIST digits are). Either way the task gets pixels,
 * an `ImageData` (`{ width, height, data }` RGBA: the protocol's pixels input).
 */
import type { tasks } from '@multihead/core';
import { field, h } from '../dom.js';
import { type InputWidget, MissingInput } from './text.js';

/** The drawing canvas's pixels (square). */
const DRAW_SIZE = 224;
/** Larger files are refused rather than decoded into a huge buffer. */
const MAX_SIDE = 4096;

export function imageInput(spec: tasks.InputSpec): InputWidget {
  const canvas = h('canvas', {
    width: DRAW_SIZE,
    height: DRAW_SIZE,
    class: 'draw',
    role: 'img',
    'data-testid': 'draw',
    'aria-label': 'Drawing area: draw with a mouse, pen or finger, or drop an image file here',
  });
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  let uploaded: ImageData | null = null;
  let drawn = false;
  const status = h('small', { class: 'hint', 'aria-live': 'polite' });

  const clear = () => {
    g.fillStyle = '#000';
    g.fillRect(0, 0, DRAW_SIZE, DRAW_SIZE);
    uploaded = null;
    drawn = false;
    status.textContent = 'Empty canvas.';
  };
  clear();

  async function useFile(file: File) {
    const bitmap = await createImageBitmap(file).catch(() => null);
    if (!bitmap) {
      status.textContent = `${file.name} is not an image this browser can decode.`;
      return;
    }
    if (bitmap.width > MAX_SIDE || bitmap.height > MAX_SIDE) {
      status.textContent = `${file.name} is ${bitmap.width} x ${bitmap.height}; at most ${MAX_SIDE} pixels a side.`;
      bitmap.close();
      return;
    }
    const full = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
    full.drawImage(bitmap, 0, 0);
    uploaded = full.getImageData(0, 0, bitmap.width, bitmap.height);
    // preview: the whole image, letterboxed into the square
    const s = Math.min(DRAW_SIZE / bitmap.width, DRAW_SIZE / bitmap.height);
    g.fillStyle = '#000';
    g.fillRect(0, 0, DRAW_SIZE, DRAW_SIZE);
    g.drawImage(
      bitmap,
      (DRAW_SIZE - bitmap.width * s) / 2,
      (DRAW_SIZE - bitmap.height * s) / 2,
      bitmap.width * s,
      bitmap.height * s,
    );
    bitmap.close();
    status.textContent = `${file.name}: ${uploaded.width} x ${uploaded.height} pixels.`;
  }

  // drawing with pointer events (mouse, pen, touch alike)
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * DRAW_SIZE) / r.width, ((e.clientY - r.top) * DRAW_SIZE) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (uploaded) clear();
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const next = at(e);
    g.strokeStyle = '#fff';
    g.lineWidth = DRAW_SIZE / 14;
    g.lineCap = 'round';
    g.beginPath();
    g.moveTo(...last);
    g.lineTo(...next);
    g.stroke();
    last = next;
    drawn = true;
    status.textContent = 'Drawing.';
  });
  const end = () => {
    last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('dragover', (e) => e.preventDefault());
  canvas.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) void useFile(file);
  });

  const file = h('input', {
    type: 'file',
    accept: (spec.accept ?? ['image/*']).join(','),
    onchange: () => {
      const chosen = file.files?.[0];
      if (chosen) void useFile(chosen);
    },
  });
  const element = h(
    'div',
    { class: 'input-image' },
    h('p', { class: 'hint' }, spec.description),
    canvas,
    h(
      'div',
      { class: 'row' },
      field('Image file', file),
      h('button', { type: 'button', onclick: clear }, 'Clear'),
    ),
    status,
  );
  return {
    element,
    async read() {
      if (uploaded) return uploaded;
      if (!drawn && spec.required !== false)
        throw new MissingInput('Draw on the canvas or choose an image first.');
      return drawn ? g.getImageData(0, 0, DRAW_SIZE, DRAW_SIZE) : undefined;
    },
  };
}
