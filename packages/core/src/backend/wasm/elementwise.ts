/**
 * Element-wise ops on the wasm engine (wasm/elementwise.ts): `mapInto` hands over its coalesced shape
 * and per-operand strides; each operand is copied in as the span of storage it reads (broadcast
 * operands are small), the output is written contiguously (or into a copy of its span when it is a
 * strided view) and copied out. Only f32 ops whose result matches the reference are here: copies,
 * add/sub/mul/div (bit-identical: f32 rounding of an exact f64 result), relu, square, their gradients,
 * and GELU (1e-7).
 */
import type { Tensor } from '../../tensor.js';
import { MAP_MIN_ELEMENTS as MIN_ELEMENTS, taskElements } from './heuristics.js';
import type { Ptr, WasmRuntime } from './runtime.js';

/** The engine's op code of a copy (`runEngine` with one operand). */
export const ENGINE_COPY = 0;

/** map-op name -> [engine op code, which inputs feed its operands a, b, c]. */
const OPS: Record<string, [number, number[]]> = {
  copy: [ENGINE_COPY, [0]],
  add: [1, [0, 1]],
  sub: [2, [0, 1]],
  mul: [3, [0, 1]],
  div: [4, [0, 1]],
  neg: [5, [0]],
  square: [6, [0]],
  relu: [7, [0]],
  // gradients: inputs are (a, b, dy) for binary ops, (x, dy) for unary ones (ops/elementwise.ts)
  add_da: [0, [2]],
  add_db: [0, [2]],
  sub_da: [0, [2]],
  sub_db: [5, [2]],
  mul_da: [3, [2, 1]],
  mul_db: [3, [2, 0]],
  div_da: [4, [2, 1]],
  div_db: [8, [0, 1, 2]],
  neg_dx: [5, [1]],
  relu_dx: [9, [0, 1]],
  square_dx: [10, [0, 1]],
  gelu: [11, [0]],
  gelu_tanh: [12, [0]],
  gelu_dx: [13, [0, 1]],
  gelu_tanh_dx: [14, [0, 1]],
};

/** Elements a view with these strides over `shape` spans in its storage (strides >= 0). */
function span(shape: readonly number[], strides: readonly number[]): number {
  let s = 1;
  for (let d = 0; d < shape.length; d++) s += (shape[d]! - 1) * strides[d]!;
  return s;
}

/** Dims the wasm engine walks; calls of higher rank loop over their smallest other dims. */
const ENGINE_RANK = 4;

/**
 * `op` over `inputs` into `out` through the coalesced `shape` and `strides` (out's first, then each
 * input's) of ops/map.ts; false when the op, dtypes or layout are not handled here. A call of rank
 * above 4 (a permuted [B, T, 3, H, D] gradient) stages its operands once and runs one job per index of
 * its smallest outer dims, the engine walking the other four.
 */
export function elementwiseWasm(
  rt: WasmRuntime,
  name: string,
  inputs: readonly Tensor[],
  out: Tensor,
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): boolean {
  const entry = OPS[name];
  const n = out.size;
  if (!entry || n < MIN_ELEMENTS) return false;
  if (out.dtype !== 'f32' || inputs.some((t) => t.dtype !== 'f32')) return false;
  if (strides.some((s) => s.some((x) => x < 0))) return false;
  const { blocks } = engineLayout(shape);
  if (n / blocks < MIN_ELEMENTS) return false;
  const [code, use] = entry;
  rt.scope(() => {
    // operands a, b, c from the chosen inputs, each read in place or staged once as the span of storage
    // the whole call reads
    const ptrs = use.map((k) => {
      const t = inputs[k]!;
      return rt.putF32(t.storage.array as Float32Array, t.offset, span(shape, strides[k + 1]!));
    });
    // out in place where it lives in the memory and no input shares its storage (an in-place op reads
    // what it overwrites); else a block, holding out's own values first when the call writes only some
    const outSpan = span(shape, strides[0]!);
    const contiguousOut = outSpan === n;
    const outArray = out.storage.array as Float32Array;
    const shared = inputs.some((t) => t.storage === out.storage);
    let op: Ptr;
    if (contiguousOut) op = rt.output(outArray, out.offset, n, shared ? [outArray] : [], n * 4 + 16);
    else if (rt.owns(outArray) && !shared) op = rt.putF32(outArray, out.offset, outSpan);
    else {
      op = rt.alloc(outSpan * 4);
      rt.f32.set(outArray.subarray(out.offset, out.offset + outSpan), op >> 2);
    }
    runEngine(rt, code, shape, [strides[0]!, ...use.map((k) => strides[k + 1]!)], [op, ...ptrs]);
    rt.finishOutput(op, outArray, out.offset, contiguousOut ? n : outSpan);
  });
  return true;
}

/** The dims jobs loop over (the smallest ones, never the innermost: the engine's vector dim), the rest, and the job count. */
function engineLayout(shape: readonly number[]) {
  const loop = [...shape.keys()]
    .slice(0, -1)
    .sort((x, y) => shape[x]! - shape[y]! || x - y)
    .slice(0, Math.max(0, shape.length - ENGINE_RANK));
  const walk = [...shape.keys()].filter((d) => !loop.includes(d));
  const blocks = loop.reduce((p, d) => p * shape[d]!, 1);
  return { loop, walk, blocks };
}

/**
 * Runs engine op `code` over `shape` (inside a `scope`): the result at `ptrs[0]`, operands a, b, c at the
 * next ones (up to three), each walked with its own element strides (`strides`, the result's first).
 * Calls of rank above 4 run one job per index of their smallest outer dims.
 */
export function runEngine(
  rt: WasmRuntime,
  code: number,
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  ptrs: readonly Ptr[],
): void {
  const { loop, walk, blocks } = engineLayout(shape);
  const pad = ENGINE_RANK - walk.length;
  const shape4 = [...new Array<number>(pad).fill(1), ...walk.map((d) => shape[d]!)];
  const strides4 = strides.map((st) => [...new Array<number>(pad).fill(0), ...walk.map((d) => st[d]!)]);
  const params = rt.alloc(32 * 4);
  const set = (f: number, v: number) => {
    rt.i32[(params >> 2) + f] = v;
  };
  // unused operand slots read address 0 with stride 0
  set(0, code);
  for (let d = 0; d < ENGINE_RANK; d++) {
    set(2 + d, shape4[d]!);
    set(6 + d, strides4[0]![d]!);
    for (let slot = 0; slot < 3; slot++) set(10 + 4 * slot + d, strides4[slot + 1]?.[d] ?? 0);
  }
  const per = taskElements(rt);
  const count = shape4.reduce((p, d) => p * d, 1);
  set(26, count);
  set(27, per);
  const tasks = Math.ceil(count / per);
  for (let b = 0; b < blocks; b++) {
    // the block's first element in every operand, from its index along the loop dims
    const base = strides.map(() => 0);
    let rem = b;
    for (let i = loop.length - 1; i >= 0; i--) {
      const d = loop[i]!;
      const at = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
      for (let k = 0; k < strides.length; k++) base[k]! += at * strides[k]![d]!;
    }
    set(22, ptrs[0]! + 4 * base[0]!);
    for (let slot = 0; slot < 3; slot++)
      set(23 + slot, slot + 1 < ptrs.length ? ptrs[slot + 1]! + 4 * base[slot + 1]! : 0);
    rt.parallel('mapChunk', tasks, 0, [params], tasks < 2);
  }
}
