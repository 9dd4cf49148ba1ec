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

/** map-op name -> [engine op code, which inputs feed its operands a, b, c]. */
const OPS: Record<string, [number, number[]]> = {
  copy: [0, [0]],
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

/**
 * `op` over `inputs` into `out` through the coalesced `shape` and `strides` (out's first, then each
 * input's) of ops/map.ts; false when the op, dtypes or layout are not handled here.
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
  if (!entry || n < MIN_ELEMENTS || shape.length > 4) return false;
  if (out.dtype !== 'f32' || inputs.some((t) => t.dtype !== 'f32')) return false;
  if (strides.some((s) => s.some((x) => x < 0))) return false;
  const [code, use] = entry;
  const pad = 4 - shape.length;
  const shape4 = [...new Array(pad).fill(1), ...shape];
  const strides4 = strides.map((s) => [...new Array(pad).fill(0), ...s]);
  rt.scope(() => {
    const params = rt.alloc(32 * 4);
    const set = (f: number, v: number) => {
      rt.i32[(params >> 2) + f] = v;
    };
    // operands a, b, c from the chosen inputs (unused ones read address 0 with stride 0)
    const ptrs: Ptr[] = [0, 0, 0];
    const opStrides = [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    use.forEach((k, slot) => {
      const t = inputs[k]!;
      const st = strides4[k + 1]!;
      ptrs[slot] = rt.putF32(t.storage.array as Float32Array, t.offset, span(shape4, st));
      opStrides[slot] = st;
    });
    const outStrides = strides4[0]!;
    const outSpan = span(shape4, outStrides);
    const contiguousOut = outSpan === n;
    const op = contiguousOut
      ? rt.alloc(n * 4 + 16)
      : rt.putF32(out.storage.array as Float32Array, out.offset, outSpan);
    set(0, code);
    for (let d = 0; d < 4; d++) {
      set(2 + d, shape4[d]!);
      set(6 + d, outStrides[d]!);
      for (let s = 0; s < 3; s++) set(10 + 4 * s + d, opStrides[s]![d]!);
    }
    set(22, op);
    for (let s = 0; s < 3; s++) set(23 + s, ptrs[s]!);
    const per = taskElements(rt);
    set(26, n);
    set(27, per);
    const tasks = Math.ceil(n / per);
    rt.parallel('mapChunk', tasks, 0, [params], tasks < 2);
    (out.storage.array as Float32Array).set(
      rt.f32.subarray(op >> 2, (op >> 2) + (contiguousOut ? n : outSpan)),
      out.offset,
    );
  });
  return true;
}
