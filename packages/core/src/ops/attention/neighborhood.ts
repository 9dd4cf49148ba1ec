/**
 * The `neighborhood` option of `attention` (docs/api.md "Attention"): 2-D neighbourhood attention
 * (NATTEN, Hassani et al. 2023; local 2-D attention of the Image Transformer, Parmar et al. 2018) over a
 * grid of cells in raster order. Checked here; the geometry is kernels/neighborhood.ts, the kernels are
 * `NeighborhoodAttention` / `NeighborhoodAttentionGrad` in each backend.
 */
import { fail } from '../../errors.js';
import type { ResolvedNeighborhood } from '../../kernels/neighborhood.js';

export type { ResolvedNeighborhood } from '../../kernels/neighborhood.js';

export interface NeighborhoodOptions {
  /** [rows, cols]: q and k hold the cells of this grid in raster order (cell = y·cols + x). */
  grid: readonly [number, number];
  /** Window size k (k x k) or [kh, kw]; k = grid size gives dense attention. */
  kernel: number | readonly [number, number];
  /** Gap between the window's cells (NATTEN's dilation): d or [dh, dw]; default 1. kernel·dilation <= grid. */
  dilation?: number | readonly [number, number];
  /**
   * Raster-order causal (pixel generation): the row window ends at the query's row and, in that row,
   * only columns up to the query's own are seen. Use this instead of the `causal` option.
   */
  causal?: boolean;
}

const KEYS = new Set(['grid', 'kernel', 'dilation', 'causal']);

function pair(op: string, name: string, x: unknown): [number, number] {
  const v = typeof x === 'number' ? [x, x] : x;
  const ok =
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1);
  if (!ok) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: neighborhood.${name} must be a positive integer or a pair of them, got ${JSON.stringify(x)}`,
    );
  }
  return v as [number, number];
}

/**
 * Checks the option against q [.., Nq, ..] and k [.., Nk, ..]: queries are the last Nq of the first Nk
 * cells (Nq = Nk = rows·cols in training; fewer in KV-cache decoding).
 */
export function resolveNeighborhood(
  op: string,
  nb: NeighborhoodOptions,
  Nq: number,
  Nk: number,
  other: { causal?: unknown; window?: unknown } = {},
): ResolvedNeighborhood {
  if (typeof nb !== 'object' || nb === null)
    fail('INVALID_ARGUMENT', `${op}: neighborhood must be an object { grid, kernel, dilation?, causal? }`);
  const unknown = Object.keys(nb).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: neighborhood has unknown field(s) ${unknown.join(', ')}; expected grid, kernel, dilation, causal`,
    );
  }
  if (other.causal !== undefined && other.causal !== false) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: causal cannot be combined with neighborhood; use neighborhood.causal (raster order)`,
    );
  }
  if (other.window !== undefined)
    fail(
      'INVALID_ARGUMENT',
      `${op}: window cannot be combined with neighborhood (the window is the neighbourhood)`,
    );
  const [rows, cols] = pair(op, 'grid', nb.grid);
  const [kh, kw] = pair(op, 'kernel', nb.kernel);
  const [dh, dw] = pair(op, 'dilation', nb.dilation ?? 1);
  if (nb.causal !== undefined && typeof nb.causal !== 'boolean')
    fail(
      'INVALID_ARGUMENT',
      `${op}: neighborhood.causal must be a boolean, got ${JSON.stringify(nb.causal)}`,
    );
  const cells = rows * cols;
  if (Nk > cells || Nq > Nk) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: neighborhood.grid [${rows}, ${cols}] has ${cells} cells; expected Nq <= Nk <= ${cells} ` +
        `(q and k the grid's cells in raster order), got Nq = ${Nq}, Nk = ${Nk}`,
    );
  }
  for (const [axis, k, d, size] of [
    ['rows', kh, dh, rows],
    ['columns', kw, dw, cols],
  ] as const) {
    if (k * d > size) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: neighborhood.kernel ${k} x dilation ${d} = ${k * d} exceeds the grid's ${size} ${axis}; ` +
          `expected kernel·dilation <= ${size}`,
      );
    }
  }
  return { rows, cols, kh, kw, dh, dw, causal: nb.causal === true };
}
