/**
 * Neighbourhood attention's geometry (NATTEN, Hassani et al. 2023; the Image Transformer's local 2-D
 * attention, Parmar et al. 2018), shared by the kernels of every backend: the TypeScript functions here
 * are the twins of the AssemblyScript (wasm/attention-neighborhood-common.ts) and WGSL
 * (backend/webgpu/attention/neighborhood-common.ts) ones.
 *
 * Cells of a rows x cols grid in raster order (cell = y·cols + x). Along each axis of length L with
 * kernel k and dilation d, a position p belongs to the sub-grid of its residue r = p mod d, at sub-index
 * s = floor(p / d); that sub-grid has Ls = ceil((L - r) / d) positions, and p sees the k sub-indices
 * [ws, ws + k) with ws = clamp(s - floor(k / 2), 0, Ls - k): the window centred on p (for even k, k/2
 * before and k/2 - 1 after), shifted inward at the borders so it always holds k positions (NATTEN's
 * `get_window_start`, which this equals for every dilation; k·d <= L keeps Ls >= k). A query sees the
 * keys whose row is in its row window and whose column is in its column window: exactly kh·kw keys.
 *
 * Causal (raster order, for pixel generation): the row window ends at the query's row, rows
 * [max(0, s - kh + 1), s] (NATTEN's causal window along rows), the column window stays centred, and in
 * the query's own row only columns <= its own are seen. Every key it sees is at or before it in raster
 * order; a centred row window would spend half its rows on the future.
 *
 * Queries may be the last Nq cells of the first Nk (Nq <= Nk <= rows·cols, bottom-right aligned as
 * KV-cache decoding needs): query i is cell i + Nk - Nq, key j is cell j, and cells >= Nk do not exist.
 */

/** A checked `neighborhood` option (ops/attention/options.ts). */
export interface ResolvedNeighborhood {
  rows: number;
  cols: number;
  kh: number;
  kw: number;
  dh: number;
  dw: number;
  causal: boolean;
}

/** Positions of residue r on an axis of length L with dilation d: ceil((L - r) / d). */
export function subLength(L: number, d: number, r: number): number {
  return Math.floor((L - 1 - r) / d) + 1;
}

/** First sub-index of the window of sub-index s (k positions; causal: up to s, fewer near the start). */
export function windowStart(s: number, Ls: number, k: number, causal: boolean): number {
  if (causal) return Math.max(0, s - k + 1);
  return Math.min(Math.max(s - (k >> 1), 0), Ls - k);
}

/** One past the window's last sub-index. */
export function windowEnd(s: number, Ls: number, k: number, causal: boolean): number {
  return causal ? s + 1 : windowStart(s, Ls, k, false) + k;
}

/**
 * Sub-indices [lo, hi) whose windows meet the sub-index range [u0, u1) (the inverse neighbourhood, which
 * dK/dV walks): windows start at a non-decreasing sub-index, so the queries form one range.
 */
export function inverseRange(
  u0: number,
  u1: number,
  Ls: number,
  k: number,
  causal: boolean,
): [number, number] {
  if (causal) return [u0, Math.min(Ls, u1 + k - 1)];
  const ns = k >> 1;
  const first = u0 - k + 1;
  const lo = first <= 0 ? 0 : first + ns;
  const last = u1 - 1;
  const hi = last >= Ls - k ? Ls : Math.min(Ls, last + ns + 1);
  return [lo, hi];
}

/**
 * The keys query i sees (ascending raster order) written to `out`; returns how many. `end` is the first
 * key that is padding (kvLens or Nk). Cost: kh·kw, never the grid.
 */
export function neighborhoodKeys(
  nb: ResolvedNeighborhood,
  Nq: number,
  Nk: number,
  i: number,
  end: number,
  out: Int32Array,
): number {
  const cell = i + Nk - Nq;
  const y = Math.floor(cell / nb.cols);
  const x = cell - y * nb.cols;
  const ry = y % nb.dh;
  const rx = x % nb.dw;
  const Lsy = subLength(nb.rows, nb.dh, ry);
  const Lsx = subLength(nb.cols, nb.dw, rx);
  const sy = Math.floor(y / nb.dh);
  const sx = Math.floor(x / nb.dw);
  const y0 = windowStart(sy, Lsy, nb.kh, nb.causal);
  const y1 = windowEnd(sy, Lsy, nb.kh, nb.causal);
  const x0 = windowStart(sx, Lsx, nb.kw, false);
  let n = 0;
  for (let ty = y0; ty < y1; ty++) {
    const ky = ry + ty * nb.dh;
    for (let tx = x0; tx < x0 + nb.kw; tx++) {
      const kx = rx + tx * nb.dw;
      if (nb.causal && ky === y && kx > x) break;
      const j = ky * nb.cols + kx;
      if (j < end) out[n++] = j;
    }
  }
  return n;
}
