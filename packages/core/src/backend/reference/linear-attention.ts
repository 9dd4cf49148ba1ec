/**
 * Linear attention on the reference backend: the derivation of kernels/linear-attention.ts run on
 * float64 host arrays (the oracle the WebGPU engine is tested against).
 */
import { gatherStrided } from '../../device.js';
import {
  contiguousMat,
  type LinearEngine,
  linearKernels,
  type Mat,
  NORM_FLOOR,
  streamOf,
} from '../../kernels/linear-attention.js';

type Host = Float64Array | Float32Array;

const at = (m: Mat<Host>, b: number, h: number, n: number, c: number) =>
  c >= m.width ? 1 : m.data[m.off + b * m.sb + h * m.sh + n * m.sn + c]!;

/** Σ_d x[b, h, n, d]², the squared norm of one row (cosine features and their gradient). */
function rowSquares(x: Mat<Host>, b: number, h: number, n: number): number {
  let ss = 0;
  for (let d = 0; d < x.width; d++) ss += at(x, b, h, n, d) ** 2;
  return ss;
}

/**
 * A contiguous [B, x.heads, x.rows, x.width] result filled row by row: `fill(out, b, h, n, o)` writes
 * the row of x at (b, h, n), which starts at `out[o]` (feature maps and their gradients work per row).
 */
function perRow(
  B: number,
  x: Mat<Host>,
  fill: (out: Float64Array, b: number, h: number, n: number, o: number) => void,
): Mat<Host> {
  const D = x.width;
  const out = new Float64Array(B * x.heads * x.rows * D);
  for (let b = 0, o = 0; b < B; b++)
    for (let h = 0; h < x.heads; h++) for (let n = 0; n < x.rows; n++, o += D) fill(out, b, h, n, o);
  return contiguousMat(out, x.heads, x.rows, D);
}

function hostEngine(B: number): LinearEngine<Host> {
  return {
    features(x, map) {
      const D = x.width;
      return perRow(B, x, (out, b, h, n, o) => {
        if (map === 0) {
          for (let d = 0; d < D; d++) {
            const xv = at(x, b, h, n, d);
            out[o + d] = xv > 0 ? xv + 1 : Math.exp(xv); // elu(x) + 1
          }
          return;
        }
        const inv = 1 / Math.max(Math.sqrt(rowSquares(x, b, h, n)), NORM_FLOOR);
        for (let d = 0; d < D; d++) out[o + d] = at(x, b, h, n, d) * inv;
      });
    },
    featureGrad(x, g, map) {
      const D = x.width;
      return perRow(B, x, (out, b, h, n, o) => {
        if (map === 0) {
          for (let d = 0; d < D; d++) {
            const xv = at(x, b, h, n, d);
            out[o + d] = g.data[o + d]! * (xv > 0 ? 1 : Math.exp(xv));
          }
          return;
        }
        // φ = x / n: dx = (g - φ (φ · g)) / n, or g / floor where the floor holds
        const norm = Math.sqrt(rowSquares(x, b, h, n));
        if (norm <= NORM_FLOOR) {
          for (let d = 0; d < D; d++) out[o + d] = g.data[o + d]! / NORM_FLOOR;
          return;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += (at(x, b, h, n, d) / norm) * g.data[o + d]!;
        for (let d = 0; d < D; d++) out[o + d] = (g.data[o + d]! - (at(x, b, h, n, d) / norm) * dot) / norm;
      });
    },
    product(r, dir, x, y, w) {
      const { xd, yc, mode } = streamOf(r, dir);
      const Dk = x.width + (x.aug ? 1 : 0);
      const We = w.width + (w.aug ? 1 : 0);
      const Nx = x.rows;
      const Ny = y.rows;
      const out = new Float64Array(B * x.heads * Nx * We);
      const state = new Float64Array(Dk * We); // the D x (Dv + 1) state of one (b, head)
      const add = (b: number, st: number, t: number) => {
        for (let g = 0; g < yc; g++) {
          const yh = st * yc + g;
          for (let d = 0; d < Dk; d++) {
            const yd = at(y, b, yh, t, d);
            for (let e = 0; e < We; e++) state[d * We + e]! += yd * at(w, b, yh, t, e);
          }
        }
      };
      const emit = (b: number, hx: number, i: number) => {
        const o = ((b * x.heads + hx) * Nx + i) * We;
        for (let d = 0; d < Dk; d++) {
          const xv = at(x, b, hx, i, d);
          for (let e = 0; e < We; e++) out[o + e]! += xv * state[d * We + e]!;
        }
      };
      for (let b = 0; b < B; b++) {
        if (mode === 0) {
          // non-causal: one state per (b, kv head), shared by its x heads
          for (let st = 0; st < r.Hkv; st++) {
            state.fill(0);
            for (let t = 0; t < Ny; t++) add(b, st, t);
            for (let hx = st * xd; hx < (st + 1) * xd; hx++) for (let i = 0; i < Nx; i++) emit(b, hx, i);
          }
          continue;
        }
        for (let hx = 0; hx < x.heads; hx++) {
          const st = Math.floor(hx / xd);
          state.fill(0);
          if (mode === 1) {
            let t = 0;
            for (let i = 0; i < Nx; i++) {
              for (; t < Ny && t <= i + r.shift; t++) add(b, st, t);
              emit(b, hx, i);
            }
          } else {
            let t = Ny - 1;
            for (let i = Nx - 1; i >= 0; i--) {
              for (; t >= 0 && t >= i - r.shift; t--) add(b, st, t);
              emit(b, hx, i);
            }
          }
        }
      }
      return contiguousMat(out, x.heads, Nx, We);
    },
    normalize(r, num) {
      const { Dv } = r;
      const rows = B * num.heads * num.rows;
      const out = new Float64Array(rows * Dv);
      for (let n = 0; n < rows; n++) {
        const den = num.data[n * (Dv + 1) + Dv]! + r.eps;
        for (let e = 0; e < Dv; e++) out[n * Dv + e] = num.data[n * (Dv + 1) + e]! / den;
      }
      return contiguousMat(out, num.heads, num.rows, Dv);
    },
    gradPrep(r, num, g) {
      const { Dv } = r;
      const out = new Float64Array(B * num.heads * num.rows * (Dv + 1));
      for (let b = 0, n = 0; b < B; b++)
        for (let h = 0; h < num.heads; h++)
          for (let i = 0; i < num.rows; i++, n++) {
            const o = n * (Dv + 1);
            const den = num.data[o + Dv]! + r.eps;
            let dot = 0;
            for (let e = 0; e < Dv; e++) {
              const ge = at(g, b, h, i, e);
              dot += ge * num.data[o + e]!;
              out[o + e] = ge / den;
            }
            out[o + Dv] = -dot / (den * den);
          }
      return contiguousMat(out, num.heads, num.rows, Dv + 1);
    },
    release() {},
  };
}

/** The reference's linear attention kernels: float64 host matrices over row-major host copies. */
export const linearAttentionReference = linearKernels<Host>({
  engine: (B) => hostEngine(B),
  bind: (inputs) => ({
    mats: inputs.map((t) => {
      const host = gatherStrided(t.storage.array!, t.dtype, t.shape, t.strides, t.offset) as Float32Array;
      const [, heads, rows, width] = t.shape as [number, number, number, number];
      return contiguousMat<Host>(host, heads, rows, width);
    }),
    release: () => {},
  }),
  tensor: (m, r, device) => device.tensor(Float32Array.from(m.data), [r.B, m.heads, m.rows, m.width]),
});
