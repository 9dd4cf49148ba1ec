/**
 * Reductions on WebGPU: one invocation walks one row (no barriers: SwiftShader punishes them); rows long
 * enough to starve the device are cut into chunks reduced in a second pass (../heuristics.ts).
 */
import type { DType } from '../../../dtype.js';
import { rowLayout } from '../../../kernels/rows.js';
import type { KernelSignatures, ReduceKind } from '../../../kernels/signatures.js';
import type { Tensor } from '../../../tensor.js';
import { reduceChunks } from '../heuristics.js';
import { type KernelSpec, perItemMain } from '../shader.js';
import { ROW_FIELDS, ROW_WGSL, rowValues } from './rows.js';

const NEG_INF = '-inf()';
const POS_INF = 'inf()';

/** Per kind: WGSL accumulator setup, step over `v` at index `k`, result, and whether long rows may split. */
const KINDS: Record<ReduceKind, { init: string; step: string; result: string; twoPass: boolean }> = {
  sum: { init: 'var acc = T(0);', step: 'acc += v;', result: 'acc', twoPass: true },
  max: {
    init: `var acc = T(${NEG_INF});`,
    step: 'acc = select(max(acc, v), acc + v, isNan(f32(v)) || isNan(f32(acc)));',
    result: 'acc',
    twoPass: true,
  },
  min: {
    init: `var acc = T(${POS_INF});`,
    step: 'acc = select(min(acc, v), acc + v, isNan(f32(v)) || isNan(f32(acc)));',
    result: 'acc',
    twoPass: true,
  },
  // online log-sum-exp (Milakov & Gimelshein 2018); -inf entries contribute nothing
  lse: {
    init: `var m = ${NEG_INF}; var s = 0.0;`,
    step: `if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else if (v > ${NEG_INF}) { s += exp(v - m); } else if (isNan(f32(v))) { m = v; }`,
    result: `select(m + log(s), ${NEG_INF}, s == 0.0 && !isNan(m))`,
    twoPass: true,
  },
  // PyTorch: NaN counts as the largest value; ties give the first index
  argmax: {
    init: `var best = T(${NEG_INF}); var bi = 0u; var seen = false;`,
    step: 'if (!seen || (!isNan(f32(best)) && (v > best || isNan(f32(v))))) { best = v; bi = k; seen = true; }',
    result: 'i32(bi)',
    twoPass: false,
  },
  argmin: {
    init: `var best = T(${POS_INF}); var bi = 0u; var seen = false;`,
    step: 'if (!seen || (!isNan(f32(best)) && (v < best || isNan(f32(v))))) { best = v; bi = k; seen = true; }',
    result: 'i32(bi)',
    twoPass: false,
  },
};

export function reduceSpec(kind: ReduceKind, inDtype: DType, outDtype: DType): KernelSpec {
  const k = KINDS[kind];
  const t = inDtype === 'f16' ? 'f16' : inDtype === 'f32' ? 'f32' : 'i32';
  const load =
    inDtype === 'bool' || inDtype === 'u32' ? 'i32(x_ld(base + k * u.stride))' : 'x_ld(base + k * u.stride)';
  return {
    key: `reduce:${kind}:${inDtype}->${outDtype}`,
    uniforms: [...ROW_FIELDS, ['n', 'u32'], ['chunks', 'u32'], ['chunk', 'u32']],
    operands: [
      { name: 'x', dtype: inDtype },
      { name: 'out', dtype: outDtype, write: true },
    ],
    workgroupSize: 64,
    body: `
alias T = ${t};
${ROW_WGSL}
${perItemMain('i', 'u.n')}
  let base = rowBase(i / u.chunks);
  let k0 = (i % u.chunks) * u.chunk;
  let k1 = min(u.len, k0 + u.chunk);
  ${k.init}
  for (var k = k0; k < k1; k++) {
    let v = T(${load});
    ${k.step}
  }
  out_st(i, ${k.result});
}`,
  };
}

export function reduceWebGpu({ kind, x, rows: r, outDtype }: KernelSignatures['Reduce']['args']): Tensor {
  const device = x.device;
  const spec = reduceSpec(kind, x.dtype, outDtype);
  const chunks = reduceChunks(KINDS[kind].twoPass, r.outerCount, r.length);
  const chunk = Math.ceil(r.length / chunks);
  const partial = device.empty(chunks === 1 ? r.outerShape : [...r.outerShape, chunks], outDtype);
  const n = r.outerCount * chunks;
  device.gpu!.run(
    spec,
    [x.storage.buffer!, partial.storage.buffer!],
    { ...rowValues(x, r), n, chunks, chunk },
    Math.ceil(n / 64),
  );
  if (chunks === 1) return partial;
  const out = reduceWebGpu({ kind, x: partial, rows: rowLayout(kind, partial, -1), outDtype });
  partial.dispose();
  return out;
}
