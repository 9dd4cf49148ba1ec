/** concat and pad: copies into slices of a new tensor through `copyInto`, so views need no extra pass. */
import type { DType } from '../dtype.js';
import { fail } from '../errors.js';
import { fmt, normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { copy, copyInto } from './elementwise.js';
import { sameDevice } from './map.js';

/** Joins tensors along `axis` (PyTorch `torch.cat`); all other dims must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) fail('INVALID_ARGUMENT', 'concat: needs at least one tensor');
  const first = tensors[0]!;
  const device = sameDevice(
    'concat',
    tensors,
    tensors.map((_, i) => `tensors[${i}]`),
  );
  const a = normalizeAxis('concat', axis, first.rank);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype)
      fail('DTYPE_MISMATCH', `concat: tensors[${i}] is ${t.dtype} but tensors[0] is ${first.dtype}`);
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!ok) {
      fail(
        'SHAPE_MISMATCH',
        `concat: tensors[${i}] ${fmt(t.shape)} does not match tensors[0] ${fmt(first.shape)} outside axis ${a}`,
      );
    }
  });
  const shape = [...first.shape];
  shape[a] = tensors.reduce((n, t) => n + t.shape[a]!, 0);
  const out = device.empty(shape, first.dtype);
  let start = 0;
  for (const t of tensors) {
    const len = t.shape[a]!;
    const dst = out.slice(a, start, start + len);
    copyInto(dst, t);
    dst.dispose();
    start += len;
  }
  return out;
}

/**
 * Pads with a constant, PyTorch `F.pad` order: `pads` = [lastLeft, lastRight, secondLastLeft, ...].
 * Negative pads crop.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  sameDevice('pad', [x], ['x']);
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank || !pads.every(Number.isInteger)) {
    fail('INVALID_ARGUMENT', `pad: pads ${fmt(pads)} must hold integer pairs for at most ${x.rank} dims`);
  }
  const shape = [...x.shape];
  let src = x;
  const views: Tensor[] = [];
  for (let p = 0; p < pads.length / 2; p++) {
    const d = x.rank - 1 - p;
    const [left, right] = [pads[2 * p]!, pads[2 * p + 1]!];
    shape[d] = x.shape[d]! + left + right;
    if (shape[d]! < 0)
      fail('INVALID_ARGUMENT', `pad: pads ${fmt(pads)} leave dim ${d} of ${fmt(x.shape)} negative`);
    // negative pads crop the source
    const cropped = src.slice(d, Math.max(0, -left), x.shape[d]! - Math.max(0, -right));
    views.push(cropped);
    src = cropped;
  }
  const out = x.device.full(shape, value, x.dtype as DType);
  let dst = out;
  const dstViews: Tensor[] = [];
  for (let p = 0; p < pads.length / 2; p++) {
    const d = x.rank - 1 - p;
    const left = Math.max(0, pads[2 * p]!);
    dst = dst.slice(d, left, left + src.shape[d]!);
    dstViews.push(dst);
  }
  if (src.size > 0) copyInto(dst, src);
  for (const v of [...views, ...dstViews]) v.dispose();
  return out;
}

export { copy };
