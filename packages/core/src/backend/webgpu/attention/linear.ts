/**
 * Linear attention on WebGPU: the five primitives of kernels/linear-attention.ts as WGSL kernels with
 * every size in uniforms (few pipelines on Subzero), run by the shared derivation.
 */
import {
  contiguousMat,
  type LinearEngine,
  linearKernels,
  type Mat,
  NORM_FLOOR,
  streamOf,
} from '../../../kernels/linear-attention.js';
import { copyOf } from '../../../kernels/map.js';
import type { Tensor } from '../../../tensor.js';
import { type KernelSpec, MAIN } from '../shader.js';
import { BHN_STRIDES, type Field, u32Fields } from '../uniforms.js';

/** Largest inner dim of a product: a head dim, or Dv + 1 with the normalizer column. */
const MAX_INNER = 257;

/** A side's offset, [B, heads, rows] strides and row width (`x_off`, ..., `x_w`). */
const SIDE_FIELDS = (p: string): Field[] => u32Fields(p, [...BHN_STRIDES, 'w']);

/** One of the five kernels: f32 `inputs` and the `output` it writes; one invocation per element or row. */
function linearSpec(
  key: string,
  uniforms: Field[],
  inputs: readonly string[],
  body: string,
  output = 'out',
): KernelSpec {
  return {
    key,
    uniforms,
    operands: [
      ...inputs.map((name) => ({ name, dtype: 'f32' as const })),
      { name: output, dtype: 'f32', write: true },
    ],
    workgroupSize: 64,
    body,
  };
}

/** Uniforms of the three product kernels (see `Engine.product`). */
const PRODUCT_FIELDS: Field[] = [
  ['B', 'u32'],
  ['Hx', 'u32'],
  ['Nx', 'u32'],
  ['Ny', 'u32'],
  ['S', 'u32'],
  ['xd', 'u32'],
  ['yc', 'u32'],
  ['Dk', 'u32'],
  ['We', 'u32'],
  ['mode', 'u32'],
  ['shift', 'i32'],
  ...SIDE_FIELDS('x'),
  ...SIDE_FIELDS('y'),
  ...SIDE_FIELDS('w'),
];

/** `<p>At(base, c)`: column c of a row, 1 in the appended ones column (c >= width). */
const sideAt = (p: string) =>
  `fn ${p}At(base: u32, c: u32) -> f32 { if (c >= u.${p}_w) { return 1.0; } return ${p}_ld(base + c); }`;
const sideBase = (p: string, b: string, h: string, n: string) =>
  `u.${p}_off + ${b} * u.${p}_sb + ${h} * u.${p}_sh + ${n} * u.${p}_sn`;

const INDEXED_MAIN = `${MAIN}
  let n = workgroupIndex(wg, nwg) * WG + li;`;

/**
 * Causal product as a scan (the RNN view): one invocation per (b, x head, output column e) keeps
 * column e of the state, Σ_t y_t w_t[e], and streams the rows in order ('queries') or in reverse
 * ('keys'), emitting x_i · state after adding the stream rows row i sees.
 */
export function linearScanSpec(): KernelSpec {
  return linearSpec(
    'linattn-scan',
    PRODUCT_FIELDS,
    ['x', 'y', 'w'],
    `${['x', 'y', 'w'].map(sideAt).join('\n')}
${INDEXED_MAIN}
  if (n >= u.B * u.Hx * u.We) { return; }
  let e = n % u.We;
  let bh = n / u.We;
  let b = bh / u.Hx;
  let hx = bh % u.Hx;
  let st = hx / u.xd;
  var s: array<f32, ${MAX_INNER}>;
  for (var d = 0u; d < u.Dk; d++) { s[d] = 0.0; }
  let reverse = u.mode == 2u;
  var t = select(0, i32(u.Ny) - 1, reverse);
  for (var step = 0u; step < u.Nx; step++) {
    let i = select(step, u.Nx - 1u - step, reverse);
    loop {
      let visible = select(t < i32(u.Ny) && t <= i32(i) + u.shift, t >= 0 && t >= i32(i) - u.shift, reverse);
      if (!visible) { break; }
      for (var g = 0u; g < u.yc; g++) {
        let yh = st * u.yc + g;
        let yb = ${sideBase('y', 'b', 'yh', 'u32(t)')};
        let wv = wAt(${sideBase('w', 'b', 'yh', 'u32(t)')}, e);
        for (var d = 0u; d < u.Dk; d++) { s[d] = fma(yAt(yb, d), wv, s[d]); }
      }
      t += select(1, -1, reverse);
    }
    let xb = ${sideBase('x', 'b', 'hx', 'i')};
    var acc = 0.0;
    for (var d = 0u; d < u.Dk; d++) { acc = fma(xAt(xb, d), s[d], acc); }
    out_st((bh * u.Nx + i) * u.We + e, acc);
  }
}`,
  );
}

/** Non-causal product, step 1: the state T[b, kv head] = Σ_g Σ_t y_t w_tᵀ, [B, S, Dk, We], one entry per invocation. */
export function linearReduceSpec(): KernelSpec {
  return linearSpec(
    'linattn-reduce',
    PRODUCT_FIELDS,
    ['y', 'w'],
    `${['y', 'w'].map(sideAt).join('\n')}
${INDEXED_MAIN}
  if (n >= u.B * u.S * u.Dk * u.We) { return; }
  let e = n % u.We;
  let d = (n / u.We) % u.Dk;
  let bs = n / (u.We * u.Dk);
  let b = bs / u.S;
  let st = bs % u.S;
  var acc = 0.0;
  for (var g = 0u; g < u.yc; g++) {
    let yh = st * u.yc + g;
    for (var t = 0u; t < u.Ny; t++) {
      acc = fma(yAt(${sideBase('y', 'b', 'yh', 't')}, d), wAt(${sideBase('w', 'b', 'yh', 't')}, e), acc);
    }
  }
  state_st(n, acc);
}`,
    'state',
  );
}

/** Non-causal product, step 2: out[b, hx, i, e] = Σ_d x_i[d] T[b, hx / xd][d, e]. */
export function linearApplySpec(): KernelSpec {
  return linearSpec(
    'linattn-apply',
    PRODUCT_FIELDS,
    ['x', 'state'],
    `${sideAt('x')}
${INDEXED_MAIN}
  if (n >= u.B * u.Hx * u.Nx * u.We) { return; }
  let e = n % u.We;
  let i = (n / u.We) % u.Nx;
  let bh = n / (u.We * u.Nx);
  let b = bh / u.Hx;
  let hx = bh % u.Hx;
  let tb = (b * u.S + hx / u.xd) * u.Dk * u.We + e;
  let xb = ${sideBase('x', 'b', 'hx', 'i')};
  var acc = 0.0;
  for (var d = 0u; d < u.Dk; d++) { acc = fma(xAt(xb, d), state_ld(tb + d * u.We), acc); }
  out_st(n, acc);
}`,
  );
}

const ROW_FIELDS: Field[] = [
  ['rows', 'u32'],
  ['Hh', 'u32'],
  ['Nr', 'u32'],
  ['W', 'u32'],
  ['map', 'u32'],
  ['grad', 'u32'],
  ['eps', 'f32'],
  ...SIDE_FIELDS('x'),
  ...SIDE_FIELDS('g'),
];

/** `b, h, i` of row n and the bases of x and g there. */
const ROW_PRELUDE = `${INDEXED_MAIN}
  if (n >= u.rows) { return; }
  let b = n / (u.Hh * u.Nr);
  let h = (n / u.Nr) % u.Hh;
  let i = n % u.Nr;
  let xb = ${sideBase('x', 'b', 'h', 'i')};
  let gb = ${sideBase('g', 'b', 'h', 'i')};`;

/**
 * The feature map φ over rows of W columns (grad = 0), or its vector-Jacobian product dx = J_φ(x)ᵀ g
 * (grad = 1); map 0 = elu+1, 1 = cosine. One invocation per row.
 */
export function linearFeatureSpec(): KernelSpec {
  return linearSpec(
    'linattn-feature',
    ROW_FIELDS,
    ['x', 'g'],
    `${ROW_PRELUDE}
  let ob = n * u.W;
  if (u.map == 0u) {
    for (var d = 0u; d < u.W; d++) {
      let xv = x_ld(xb + d);
      // elu(x) + 1 and its derivative; select keeps exp(large x) out of the result
      if (u.grad == 0u) { out_st(ob + d, select(exp(xv), xv + 1.0, xv > 0.0)); }
      else { out_st(ob + d, g_ld(gb + d) * select(exp(xv), 1.0, xv > 0.0)); }
    }
    return;
  }
  var ss = 0.0;
  for (var d = 0u; d < u.W; d++) { let xv = x_ld(xb + d); ss = fma(xv, xv, ss); }
  let norm = sqrt(ss);
  let inv = 1.0 / max(norm, ${NORM_FLOOR});
  if (u.grad == 0u) {
    for (var d = 0u; d < u.W; d++) { out_st(ob + d, x_ld(xb + d) * inv); }
    return;
  }
  // φ = x / norm: dx = (g - φ (φ · g)) / norm; below the floor φ = x / floor is linear
  var dot = 0.0;
  for (var d = 0u; d < u.W; d++) { dot = fma(x_ld(xb + d) * inv, g_ld(gb + d), dot); }
  let keep = select(1.0, 0.0, norm <= ${NORM_FLOOR});
  for (var d = 0u; d < u.W; d++) {
    out_st(ob + d, (g_ld(gb + d) - keep * x_ld(xb + d) * inv * dot) * inv);
  }
}`,
  );
}

/**
 * Rows of the augmented numerator x = [num, φ(q)ᵀz] (W = Dv): grad = 0 writes out = num / (φ(q)ᵀz + eps);
 * grad = 1 writes ĝ = [g / den, -(g · num) / den²] from the output gradient g.
 */
export function linearRowsSpec(): KernelSpec {
  return linearSpec(
    'linattn-rows',
    ROW_FIELDS,
    ['x', 'g'],
    `${ROW_PRELUDE}
  let den = x_ld(xb + u.W) + u.eps;
  if (u.grad == 0u) {
    for (var e = 0u; e < u.W; e++) { out_st(n * u.W + e, x_ld(xb + e) / den); }
    return;
  }
  let ob = n * (u.W + 1u);
  var dot = 0.0;
  for (var e = 0u; e < u.W; e++) {
    let ge = g_ld(gb + e);
    dot = fma(ge, x_ld(xb + e), dot);
    out_st(ob + e, ge / den);
  }
  out_st(ob + u.W, -dot / (den * den));
}`,
  );
}

const sideValues = (p: string, m: Mat<Tensor>) => ({
  [`${p}_off`]: m.off,
  [`${p}_sb`]: m.sb,
  [`${p}_sh`]: m.sh,
  [`${p}_sn`]: m.sn,
  [`${p}_w`]: m.width,
});

function gpuEngine(B: number, device: Tensor['device']): LinearEngine<Tensor> {
  const gpu = device.gpu!;
  const groups = (n: number) => Math.ceil(n / 64);
  const fresh = (heads: number, rows: number, width: number) =>
    contiguousMat(device.empty([B, heads, rows, width], 'f32'), heads, rows, width);
  const rowPass = (spec: KernelSpec, x: Mat<Tensor>, g: Mat<Tensor>, out: Mat<Tensor>, extra: object) => {
    const rows = B * x.heads * x.rows;
    const values = { rows, Hh: x.heads, Nr: x.rows, ...sideValues('x', x), ...sideValues('g', g), ...extra };
    gpu.run(
      spec,
      [x.data, g.data, out.data].map((t) => t.storage.buffer!),
      values,
      groups(rows),
    );
    return out;
  };
  return {
    features(x, map) {
      const out = fresh(x.heads, x.rows, x.width);
      return rowPass(linearFeatureSpec(), x, x, out, { W: x.width, map, grad: 0, eps: 0 });
    },
    featureGrad(x, g, map) {
      const out = fresh(x.heads, x.rows, x.width);
      return rowPass(linearFeatureSpec(), x, g, out, { W: x.width, map, grad: 1, eps: 0 });
    },
    product(r, dir, x, y, w) {
      const { xd, yc, mode } = streamOf(r, dir);
      const Dk = x.width + (x.aug ? 1 : 0);
      const We = w.width + (w.aug ? 1 : 0);
      const out = fresh(x.heads, x.rows, We);
      const values = {
        B,
        Hx: x.heads,
        Nx: x.rows,
        Ny: y.rows,
        S: r.Hkv,
        xd,
        yc,
        Dk,
        We,
        mode,
        shift: r.shift,
        ...sideValues('x', x),
        ...sideValues('y', y),
        ...sideValues('w', w),
      };
      const buf = (t: Tensor) => t.storage.buffer!;
      if (mode !== 0) {
        gpu.run(
          linearScanSpec(),
          [x.data, y.data, w.data, out.data].map(buf),
          values,
          groups(B * x.heads * We),
        );
        return out;
      }
      const state = device.empty([B, r.Hkv, Dk, We], 'f32');
      try {
        gpu.run(linearReduceSpec(), [y.data, w.data, state].map(buf), values, groups(B * r.Hkv * Dk * We));
        gpu.run(
          linearApplySpec(),
          [x.data, state, out.data].map(buf),
          values,
          groups(B * x.heads * x.rows * We),
        );
      } finally {
        state.dispose(); // the queue keeps the buffer until the apply has run
      }
      return out;
    },
    normalize(r, num) {
      const out = fresh(num.heads, num.rows, r.Dv);
      return rowPass(linearRowsSpec(), num, num, out, { W: r.Dv, map: 0, grad: 0, eps: r.eps });
    },
    gradPrep(r, num, g) {
      const out = fresh(num.heads, num.rows, r.Dv + 1);
      return rowPass(linearRowsSpec(), num, g, out, { W: r.Dv, map: 0, grad: 1, eps: r.eps });
    },
    release(m) {
      m.data.dispose();
    },
  };
}

/** The WebGPU linear attention kernels; they read any strides with a contiguous last dim, copy the rest. */
export const linearAttentionWebGpu = linearKernels<Tensor>({
  engine: (B, device) => gpuEngine(B, device),
  bind: (inputs) => {
    const made: Tensor[] = [];
    const mats = inputs.map((t) => {
      const own = t.strides[3] === 1 || t.shape[3] === 1 ? t : copyOf(t);
      if (own !== t) made.push(own);
      const [, heads, rows, width] = own.shape as [number, number, number, number];
      const [sb, sh, sn] = own.strides as [number, number, number];
      return { data: own, heads, rows, width, off: own.offset, sb, sh, sn, aug: false };
    });
    const release = () => {
      for (const t of made) t.dispose();
    };
    return { mats, release };
  },
  tensor: (m) => m.data,
});
