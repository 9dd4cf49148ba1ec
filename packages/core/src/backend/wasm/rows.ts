/**
 * Row-wise ops on the wasm kernels (wasm/rows.ts): softmax, layer/RMS norm and its backward,
 * cross-entropy and its backward, AdamW. Each stages contiguous
 * operands, runs tasks of whole rows (or runs of elements), and copies the results out. Every function
 * returns false when the layout or size is not worth it, and the caller runs its reference.
 */
import type { TypedArray } from '../../dtype.js';
import type { AdamWConstants, CrossEntropyRowOptions } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { ROWS_MIN_ELEMENTS as MIN_ELEMENTS, rowsPerTask, taskElements } from './heuristics.js';
import type { Ptr, WasmRuntime } from './runtime.js';

/** Copies the elements of a contiguous tensor (from its offset) into the memory, padded to 4 floats. */
function stage(rt: WasmRuntime, t: Tensor): Ptr {
  const arr = t.storage.array!;
  const n = t.size;
  const p = rt.alloc(Math.ceil(n / 4) * 16);
  if (arr instanceof Int32Array) rt.i32.set(arr.subarray(t.offset, t.offset + n), p >> 2);
  else rt.f32.set((arr as Float32Array).subarray(t.offset, t.offset + n), p >> 2);
  return p;
}

function copyOut(rt: WasmRuntime, p: Ptr, n: number, dst: TypedArray, offset: number): void {
  (dst as Float32Array).set(rt.f32.subarray(p >> 2, (p >> 2) + n), offset);
}

const ok = (...ts: (Tensor | null | undefined)[]) =>
  ts.every((t) => !t || (t.isContiguous && t.dtype !== 'f16'));

/** softmax / logSoftmax over the last axis of a contiguous x into out (contiguous, same shape). */
export function softmaxWasm(rt: WasmRuntime, x: Tensor, out: Tensor, log: boolean, axis: number): boolean {
  const n = x.shape[x.rank - 1] ?? 1;
  if (x.rank === 0 || axis !== x.rank - 1 || !ok(x) || x.size < MIN_ELEMENTS) return false;
  const rows = x.size / n;
  rt.scope(() => {
    const xp = stage(rt, x);
    const op = rt.alloc(x.size * 4 + 16);
    const per = rowsPerTask(rt, n);
    const tasks = Math.ceil(rows / per);
    rt.parallel('softmaxRows', tasks, 0, [xp, op, rows, n, log ? 1 : 0, per], tasks < 2);
    copyOut(rt, op, x.size, out.storage.array!, out.offset);
  });
  return true;
}

/** layerNorm / rmsNorm over rows of `dim` of contiguous xc (weight, bias contiguous or null) into out. */
export function normWasm(
  rt: WasmRuntime,
  layer: boolean,
  xc: Tensor,
  wc: Tensor | null,
  bc: Tensor | null,
  out: Tensor,
  rows: number,
  dim: number,
  eps: number,
): boolean {
  if (!ok(xc, wc, bc) || xc.size < MIN_ELEMENTS) return false;
  rt.scope(() => {
    const xp = stage(rt, xc);
    const wp = wc ? stage(rt, wc) : 0;
    const bp = bc ? stage(rt, bc) : 0;
    const op = rt.alloc(xc.size * 4 + 16);
    const per = rowsPerTask(rt, dim);
    const tasks = Math.ceil(rows / per);
    rt.parallel('normRows', tasks, 64, [xp, wp, bp, op, rows, dim, layer ? 1 : 0, eps, per], tasks < 2);
    copyOut(rt, op, xc.size, out.storage.array!, out.offset);
  });
  return true;
}

/** Backward of normWasm: dx (and gyXhat when there is a weight), both contiguous outputs. */
export function normBackwardWasm(
  rt: WasmRuntime,
  layer: boolean,
  xc: Tensor,
  gc: Tensor,
  wc: Tensor | null,
  dx: Tensor,
  gyXhat: Tensor | null,
  rows: number,
  dim: number,
  eps: number,
): boolean {
  if (!ok(xc, gc, wc) || xc.size < MIN_ELEMENTS) return false;
  rt.scope(() => {
    const xp = stage(rt, xc);
    const gp = stage(rt, gc);
    const wp = wc ? stage(rt, wc) : 0;
    const dp = rt.alloc(xc.size * 4 + 16);
    const hp = gyXhat ? rt.alloc(xc.size * 4 + 16) : 0;
    const per = rowsPerTask(rt, dim);
    const tasks = Math.ceil(rows / per);
    rt.parallel(
      'normBackwardRows',
      tasks,
      64,
      [xp, wp, gp, dp, hp, rows, dim, layer ? 1 : 0, eps, per],
      tasks < 2,
    );
    copyOut(rt, dp, xc.size, dx.storage.array!, dx.offset);
    if (gyXhat) copyOut(rt, hp, xc.size, gyXhat.storage.array!, gyXhat.offset);
  });
  return true;
}

/** Per-row losses and weights (`rows` [2, n]) and log-sum-exp (`lse` [n]); targets already checked. */
export function crossEntropyWasm(
  rt: WasmRuntime,
  logits: Tensor,
  targets: Tensor,
  rowsOut: Tensor,
  lseOut: Tensor,
  opts: CrossEntropyRowOptions,
): boolean {
  const C = logits.shape[logits.rank - 1] ?? 1;
  if (logits.rank === 0 || !ok(logits, targets) || logits.size < MIN_ELEMENTS) return false;
  const n = logits.size / C;
  rt.scope(() => {
    const xp = stage(rt, logits);
    const tp = stage(rt, targets);
    const op = rt.alloc(2 * n * 4 + 16);
    const lp = rt.alloc(n * 4 + 16);
    const per = rowsPerTask(rt, C);
    const tasks = Math.ceil(n / per);
    rt.parallel(
      'crossEntropyRows',
      tasks,
      0,
      [xp, tp, op, lp, n, C, opts.ignoreIndex, opts.labelSmoothing, per],
      tasks < 2,
    );
    copyOut(rt, op, 2 * n, rowsOut.storage.array!, rowsOut.offset);
    copyOut(rt, lp, n, lseOut.storage.array!, lseOut.offset);
  });
  return true;
}

/** d loss / d logits into dx (contiguous [..., C]); g read at g.offset + row·gStride. */
export function crossEntropyBackwardWasm(
  rt: WasmRuntime,
  logits: Tensor,
  targets: Tensor,
  lse: Tensor,
  g: Tensor,
  gStride: 0 | 1,
  dx: Tensor,
  opts: CrossEntropyRowOptions,
): boolean {
  const C = logits.shape[logits.rank - 1] ?? 1;
  if (logits.rank === 0 || !ok(logits, targets, lse) || logits.size < MIN_ELEMENTS) return false;
  const n = logits.size / C;
  rt.scope(() => {
    const xp = stage(rt, logits);
    const tp = stage(rt, targets);
    const lp = stage(rt, lse);
    const gp = rt.putF32(g.storage.array as Float32Array, g.offset, gStride ? n : 1);
    const dp = rt.alloc(logits.size * 4 + 16);
    const per = rowsPerTask(rt, C);
    const tasks = Math.ceil(n / per);
    rt.parallel(
      'crossEntropyBackwardRows',
      tasks,
      0,
      [xp, tp, lp, gp, gStride, dp, n, C, opts.ignoreIndex, opts.labelSmoothing, per],
      tasks < 2,
    );
    copyOut(rt, dp, logits.size, dx.storage.array!, dx.offset);
  });
  return true;
}

/** One AdamW step in place on p, m, v (and vmax); p and g may start at an offset, the state may not. */
export function adamwWasm(
  rt: WasmRuntime,
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  vmax: Tensor | null,
  c: AdamWConstants,
): boolean {
  const n = p.size;
  if (n < MIN_ELEMENTS || !ok(p, g, m, v, vmax)) return false;
  rt.scope(() => {
    const [pp, gp, mp, vp] = [p, g, m, v].map((t) => stage(rt, t)) as [Ptr, Ptr, Ptr, Ptr];
    const xp = vmax ? stage(rt, vmax) : 0;
    const per = taskElements(rt);
    const tasks = Math.ceil(n / per);
    rt.parallel(
      'adamwChunk',
      tasks,
      0,
      [
        pp,
        gp,
        mp,
        vp,
        xp,
        n,
        c.decay,
        c.beta1,
        1 - c.beta1,
        c.beta2,
        1 - c.beta2,
        c.stepSize,
        c.bc2Sqrt,
        c.eps,
        per,
      ],
      tasks < 2,
    );
    copyOut(rt, pp, n, p.storage.array!, p.offset);
    copyOut(rt, mp, n, m.storage.array!, m.offset);
    copyOut(rt, vp, n, v.storage.array!, v.offset);
    if (vmax) copyOut(rt, xp, n, vmax.storage.array!, vmax.offset);
  });
  return true;
}
