/**
 * Row-wise kernels on the wasm backend (wasm/rows.ts): softmax, layer/RMS norm and its backward,
 * cross-entropy and its backward, AdamW. Each stages contiguous operands, runs tasks of whole rows (or
 * runs of elements), and copies the results out. Every function returns false when the layout or size
 * is not worth it (heuristics.ts), and the kernel runs the reference instead (register.ts).
 */
import type { TypedArray } from '../../dtype.js';
import type { KernelSignatures } from '../../kernels/signatures.js';
import type { Tensor } from '../../tensor.js';
import { ROWS_MIN_ELEMENTS as MIN_ELEMENTS, rowsPerTask, taskElements } from './heuristics.js';
import type { Ptr, WasmKernelName, WasmRuntime } from './runtime.js';

/** The elements of a contiguous tensor (from its offset) in the memory: in place, or copied in. */
function stage(rt: WasmRuntime, t: Tensor): Ptr {
  const arr = t.storage.array!;
  return arr instanceof Int32Array ? rt.putI32(arr, t.offset, t.size) : rt.putF32(arr, t.offset, t.size);
}

function copyOut(rt: WasmRuntime, p: Ptr, n: number, dst: TypedArray, offset: number): void {
  rt.finishOutput(p, dst, offset, n);
}

const ok = (...ts: (Tensor | null | undefined)[]) =>
  ts.every((t) => !t || (t.isContiguous && t.dtype !== 'f16'));

/**
 * Where `n` results bound for `t` are written (padded for the kernels' vector stores): in place when
 * `t` lives in the memory and no input shares its storage.
 */
const output = (rt: WasmRuntime, t: Tensor, n: number, inputs: (Tensor | null | undefined)[]): Ptr =>
  rt.output(
    t.storage.array!,
    t.offset,
    n,
    inputs.map((i) => i?.storage.array ?? null),
    n * 4 + 16,
  );

/** Runs `kernel` over `rows` rows of `width` elements in tasks of whole rows; `args` end with rows per task. */
function rowTasks(
  rt: WasmRuntime,
  kernel: WasmKernelName,
  scratch: number,
  rows: number,
  width: number,
  args: number[],
) {
  const per = rowsPerTask(rt, width);
  const tasks = Math.ceil(rows / per);
  rt.parallel(kernel, tasks, scratch, [...args, per], tasks < 2);
}

type Sig = KernelSignatures;

/** softmax / logSoftmax over the last axis of a contiguous x into out (contiguous, same shape). */
export function softmaxWasm(rt: WasmRuntime, { x, out, log, rows: r }: Sig['Softmax']['args']): boolean {
  const n = x.shape[x.rank - 1] ?? 1;
  if (x.rank === 0 || r.axis !== x.rank - 1 || !ok(x) || x.size < MIN_ELEMENTS) return false;
  const rows = x.size / n;
  rt.scope(() => {
    const xp = stage(rt, x);
    const op = output(rt, out, x.size, [x]);
    rowTasks(rt, 'softmaxRows', 0, rows, n, [xp, op, rows, n, log ? 1 : 0]);
    copyOut(rt, op, x.size, out.storage.array!, out.offset);
  });
  return true;
}

/** layerNorm / rmsNorm over rows of `dim` of contiguous x (weight, bias contiguous or null) into out. */
export function normWasm(rt: WasmRuntime, a: Sig['Norm']['args']): boolean {
  const { x, weight, bias, out, rows, dim } = a;
  if (!ok(x, weight, bias) || x.size < MIN_ELEMENTS) return false;
  rt.scope(() => {
    const [xp, wp, bp] = [x, weight, bias].map((t) => (t ? stage(rt, t) : 0)) as [Ptr, Ptr, Ptr];
    const op = output(rt, out, x.size, [x, weight, bias]);
    rowTasks(rt, 'normRows', 64, rows, dim, [xp, wp, bp, op, rows, dim, a.kind === 'layer' ? 1 : 0, a.eps]);
    copyOut(rt, op, x.size, out.storage.array!, out.offset);
  });
  return true;
}

/** Backward of normWasm: dx (and gyXhat when there is a weight), both contiguous outputs. */
export function normBackwardWasm(rt: WasmRuntime, a: Sig['NormGrad']['args']): boolean {
  const { x, gy, weight, dx, gyXhat, rows, dim } = a;
  if (!ok(x, gy, weight) || x.size < MIN_ELEMENTS) return false;
  rt.scope(() => {
    const [xp, gp, wp] = [x, gy, weight].map((t) => (t ? stage(rt, t) : 0)) as [Ptr, Ptr, Ptr];
    const dp = output(rt, dx, x.size, [x, gy, weight]);
    const hp = gyXhat ? output(rt, gyXhat, x.size, [x, gy, weight, dx]) : 0;
    const layer = a.kind === 'layer' ? 1 : 0;
    rowTasks(rt, 'normBackwardRows', 64, rows, dim, [xp, wp, gp, dp, hp, rows, dim, layer, a.eps]);
    copyOut(rt, dp, x.size, dx.storage.array!, dx.offset);
    if (gyXhat) copyOut(rt, hp, x.size, gyXhat.storage.array!, gyXhat.offset);
  });
  return true;
}

/** Per-row losses and weights (`lossRows` [2, n]) and log-sum-exp (`lse` [n]); targets already checked. */
export function crossEntropyWasm(rt: WasmRuntime, a: Sig['CrossEntropy']['args']): boolean {
  const { logits, targets, lossRows, lse, opts } = a;
  const C = logits.shape[logits.rank - 1] ?? 1;
  if (logits.rank === 0 || !ok(logits, targets) || logits.size < MIN_ELEMENTS) return false;
  const n = logits.size / C;
  rt.scope(() => {
    const [xp, tp] = [stage(rt, logits), stage(rt, targets)];
    const [op, lp] = [output(rt, lossRows, 2 * n, [logits]), output(rt, lse, n, [logits, lossRows])];
    const smoothing = opts.labelSmoothing;
    rowTasks(rt, 'crossEntropyRows', 0, n, C, [xp, tp, op, lp, n, C, opts.ignoreIndex, smoothing]);
    copyOut(rt, op, 2 * n, lossRows.storage.array!, lossRows.offset);
    copyOut(rt, lp, n, lse.storage.array!, lse.offset);
  });
  return true;
}

/** d loss / d logits into dx (contiguous [..., C]); g read at g.offset + row·gStride. */
export function crossEntropyBackwardWasm(rt: WasmRuntime, a: Sig['CrossEntropyGrad']['args']): boolean {
  const { logits, targets, lse, g, gStride, dx, opts } = a;
  const C = logits.shape[logits.rank - 1] ?? 1;
  if (logits.rank === 0 || !ok(logits, targets, lse) || logits.size < MIN_ELEMENTS) return false;
  const n = logits.size / C;
  rt.scope(() => {
    const [xp, tp, lp] = [stage(rt, logits), stage(rt, targets), stage(rt, lse)];
    const gp = rt.putF32(g.storage.array as Float32Array, g.offset, gStride ? n : 1);
    const dp = output(rt, dx, logits.size, [logits, lse, g]);
    const args = [xp, tp, lp, gp, gStride, dp, n, C, opts.ignoreIndex, opts.labelSmoothing];
    rowTasks(rt, 'crossEntropyBackwardRows', 0, n, C, args);
    copyOut(rt, dp, logits.size, dx.storage.array!, dx.offset);
  });
  return true;
}

/** One AdamW step in place on p, m, v (and vmax); p and g may start at an offset, the state may not. */
export function adamwWasm(
  rt: WasmRuntime,
  { p, g, m, v, vmax, consts: c }: Sig['AdamWStep']['args'],
): boolean {
  const n = p.size;
  if (n < MIN_ELEMENTS || !ok(p, g, m, v, vmax)) return false;
  rt.scope(() => {
    const [pp, gp, mp, vp] = [p, g, m, v].map((t) => stage(rt, t)) as [Ptr, Ptr, Ptr, Ptr];
    const xp = vmax ? stage(rt, vmax) : 0;
    const per = taskElements(rt);
    const tasks = Math.ceil(n / per);
    const hyper = [c.decay, c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.stepSize, c.bc2Sqrt, c.eps];
    rt.parallel('adamwChunk', tasks, 0, [pp, gp, mp, vp, xp, n, ...hyper, per], tasks < 2);
    const state: [Ptr, Tensor | null][] = [
      [pp, p],
      [mp, m],
      [vp, v],
      [xp, vmax],
    ];
    for (const [ptr, t] of state) if (t) copyOut(rt, ptr, n, t.storage.array!, t.offset);
  });
  return true;
}
