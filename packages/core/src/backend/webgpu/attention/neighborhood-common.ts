/**
 * What the WGSL neighbourhood-attention kernels share (neighborhood-forward.ts, neighborhood-backward.ts):
 * the grid's uniforms, the window geometry (the twins of kernels/neighborhood.ts) and how an invocation
 * finds its strip: R consecutive cells of one sub-row (one grid row, one column residue under dilation),
 * so the R windows of a strip overlap and one run of R + kw - 1 keys per window row covers them all
 * (NATTEN's tiling): work grows with N·kh·(kw + R - 1), never with the grid.
 */
import type { ResolvedAttention } from '../../../kernels/attention.js';
import type { ResolvedNeighborhood } from '../../../kernels/neighborhood.js';
import type { Field } from '../uniforms.js';
import { ATTENTION_FIELDS, type AttentionFeatures, featureKey } from './features.js';

/** Attention's uniforms plus the grid, the window, the strips per (b, h) and the first query cell. */
export const NEIGHBORHOOD_FIELDS: Field[] = [
  ...ATTENTION_FIELDS,
  ['rows', 'u32'],
  ['cols', 'u32'],
  ['kh', 'u32'],
  ['kw', 'u32'],
  ['dh', 'u32'],
  ['dw', 'u32'],
  ['nb_causal', 'u32'],
  ['per_res', 'u32'],
  ['strips', 'u32'],
  ['q_cell', 'u32'],
];

/** Strips of R cells per residue of a row, and per (b, h): rows x dw residues x per_res. */
export function neighborhoodValues(nb: ResolvedNeighborhood, r: ResolvedAttention, R: number) {
  const perRes = Math.ceil(Math.ceil(nb.cols / nb.dw) / R);
  return {
    rows: nb.rows,
    cols: nb.cols,
    kh: nb.kh,
    kw: nb.kw,
    dh: nb.dh,
    dw: nb.dw,
    nb_causal: nb.causal ? 1 : 0,
    per_res: perRes,
    strips: nb.rows * nb.dw * perRes,
    q_cell: r.Nk - r.Nq,
  };
}

export const neighborhoodKey = (f: AttentionFeatures) => `nb:${featureKey(f)}`;

/** Geometry in WGSL (u32 arithmetic), as kernels/neighborhood.ts. */
export function neighborhoodWgsl(R: number, kvLens: boolean): string {
  return `
const R: u32 = ${R}u;
/** Positions of residue r on an axis of length L with dilation d. */
fn subLen(L: u32, d: u32, r: u32) -> u32 { return (L - 1u - r) / d + 1u; }
/** First sub-index of the window of sub-index s: centred and shifted inward, or causal (ends at s). */
fn winStart(s: u32, Ls: u32, k: u32, causal: bool) -> u32 {
  if (causal) { return select(0u, s + 1u - k, s + 1u >= k); }
  return min(select(0u, s - k / 2u, s >= k / 2u), Ls - k);
}
fn winEnd(s: u32, Ls: u32, k: u32, causal: bool) -> u32 {
  if (causal) { return s + 1u; }
  return winStart(s, Ls, k, false) + k;
}
/** Sub-indices whose windows meet [u0, u1): [invLo(u0), invHi(u1)) (the inverse neighbourhood). */
fn invLo(u0: u32, k: u32, causal: bool) -> u32 {
  if (causal || u0 + 1u <= k) { return select(0u, u0, causal); }
  return u0 + 1u - k + k / 2u;
}
fn invHi(u1: u32, Ls: u32, k: u32, causal: bool) -> u32 {
  if (causal) { return min(Ls, u1 + k - 1u); }
  if (u1 - 1u + k >= Ls) { return Ls; }
  return min(Ls, u1 + k / 2u);
}
fn nbCausal() -> bool { return u.nb_causal != 0u; }
/** First key that is padding: kvLens[b] or Nk. */
fn keyEnd(b: u32) -> u32 { return ${kvLens ? 'u32(clamp(lens_ld(b), 0, i32(u.Nk)))' : 'u.Nk'}; }
/** Strip s of a (b, h): grid row, column residue, first sub-column. */
fn stripOf(s: u32) -> vec3u {
  let perRow = u.dw * u.per_res;
  let rem = s % perRow;
  return vec3u(s / perRow, rem / u.per_res, (rem % u.per_res) * R);
}`;
}
