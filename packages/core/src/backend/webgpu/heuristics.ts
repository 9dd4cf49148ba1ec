/**
 * Which WebGPU kernel runs where, in one file (as FlashAttention keeps its choices in
 * `hopper/heuristics.h`): attention kernel families and rows per invocation, the split-K threshold,
 * matmul tiles, and when a reduction takes two passes. Each choice names the measurement behind it
 * (docs/decisions.md "Fused attention", "matmul on WebGPU"); the kernels read these, they never decide.
 */
import type { Device } from '../../device.js';
import { fail } from '../../errors.js';
import type { AttentionKernel } from '../../kernels/attention.js';
import type { WebGpuRuntime } from './runtime.js';

// ---- attention ------------------------------------------------------------------------------------

export type AttentionFamily = 'registers' | 'tiled';

/**
 * The family `kernel: 'auto'` runs for head dims divisible by 4: 'registers' (barrier-free, several rows
 * per invocation; SwiftShader runs barrier kernels 2-5x slower and tiled attention 6.6x slower at B1 H8
 * N1024 D64) on software adapters, 'tiled' (workgroup memory, one row per invocation, what a GPU's
 * register file holds without spilling) on hardware adapters.
 */
export function defaultAttentionFamily(gpu: WebGpuRuntime): AttentionFamily {
  return gpu.adapter.isSoftware ? 'registers' : 'tiled';
}

/** The family `kernel: 'auto'` runs on this device; null on the CPU backend (no WebGPU kernels there). */
export function defaultAttentionKernel(device: Device): AttentionFamily | null {
  return device.gpu ? defaultAttentionFamily(device.gpu) : null;
}

export function attentionFamily(kernel: AttentionKernel, gpu: WebGpuRuntime): AttentionFamily {
  return kernel === 'auto' ? defaultAttentionFamily(gpu) : kernel;
}

/** Rows per invocation of the loop-based kernels (register arrays of R x D floats). */
export function loopedRows(D: number, Dv: number): number {
  const d = Math.max(D, Dv);
  return d <= 64 ? 4 : d <= 128 ? 2 : 1;
}

/** Invocations per workgroup of the loop-based row-streaming kernels. */
export const LOOPED_WORKGROUP = 32;

/**
 * Rows per invocation of the register forward (q and the accumulator stay in registers). Measured at
 * B1 H8 N1024 D64 on SwiftShader: 8 rows x 2 keys per step 3.4-4.5 GFLOP/s, 4 x 4 3.5, 4 x 2 2.9,
 * 2 x 4 2.2. Subzero's compile time grows faster than the code: the plain 8-row D 64 kernel takes
 * 11-14 s, and with per-element masks or mods inlined 16 times per step it ran for minutes and
 * gigabytes, so 8 rows are kept for kernels without those.
 */
export function registerRows(f: {
  D: number;
  Dv: number;
  mask: boolean;
  bias: boolean;
  scoreMod: unknown;
  maskMod: unknown;
  dropout: boolean;
}): number {
  const d = Math.max(f.D, f.Dv);
  const perElement = f.mask || f.bias || f.scoreMod !== null || f.maskMod !== null || f.dropout;
  if (d <= 64) return perElement ? 4 : 8;
  return d <= 128 ? 2 : 1;
}

/** 16 beat 8, 32 and 64 invocations per workgroup at the sizes above. */
export const REGISTERS_WORKGROUP = 16;

/** Rows per invocation of the register backward: three or four register sets of R x D/4 vec4 each. */
export function registerBackwardRows(D: number, Dv: number): number {
  const d = Math.max(D, Dv);
  // 4 rows at D 64 measured ~10-15% faster than 2, but compile time on Subzero grows faster than code size
  return d <= 32 ? 4 : d <= 64 ? 2 : 1;
}

export const REGISTERS_BACKWARD_WORKGROUP = 16;

/** Keys per split-K chunk: long enough to amortize the merge, short enough to spread over the device. */
export const SPLIT_K_CHUNK = 64;

/**
 * Whether a call runs the split-K decode kernels (Flash-Decoding): one query row per head leaves too
 * little parallel work over queries once there are two chunks of keys or more.
 */
export function useSplitK(Nq: number, Nk: number, decode: 'auto' | 'split-k' | 'fused'): boolean {
  return Nq === 1 && (decode === 'split-k' || (decode === 'auto' && Nk >= 2 * SPLIT_K_CHUNK));
}

/**
 * Query (or key) cells per invocation of the neighbourhood kernels: a strip of R cells shares one run
 * of R + kw - 1 keys per window row, so larger R reuses each loaded key more but scores more keys that
 * a query's window excludes (R + kw - 1 against kw). The register arrays bound R as in loopedRows.
 */
export function neighborhoodRows(D: number, Dv: number, kw: number): number {
  return Math.min(loopedRows(D, Dv), kw <= 2 ? 2 : 4);
}

/** Block-sparse head dims are uniforms; only the register arrays' size is baked, in three buckets. */
export function blockSparseHeadBucket(D: number, Dv: number): number {
  const m = Math.max(D, Dv);
  return m <= 64 ? 64 : m <= 128 ? 128 : 256;
}

// ---- matmul ---------------------------------------------------------------------------------------

/**
 * Shape of the quad kernel's work, part of its pipeline key so each adapter can get its own.
 * Each invocation owns `sr` rows x `sc` columns of C; a quad (4 invocations, a 2x2 grid) owns
 * 2sr x 2sc; a workgroup holds `qm` x `qn` quads.
 */
export interface QuadTile {
  sr: number;
  sc: number;
  qm: number;
  qn: number;
}

/**
 * Tuned on SwiftShader (Subzero, 2 cores): every storage load with a per-lane index is an emulated
 * gather there (a branch per lane and component), so what counts is how many multiply-adds each loaded
 * value feeds, against the spills that more accumulators cost. At 1024^3, 16x16 per invocation with one
 * quad per workgroup measured best: about 2.5-2.8 GFLOP per CPU-second (4.5-6 GFLOP/s on an idle
 * machine), against 2.4 for 16x32, 2.0 for 16x8, less for 8x8, 32x16 or 16 quads per workgroup, and
 * 0.7 GFLOP/s for the strided kernel. Loads without quad sharing: about 2x slower.
 */
const SOFTWARE_TILE: QuadTile = { sr: 16, sc: 16, qm: 1, qn: 1 };
/** Untuned guess for hardware GPUs: 64 invocations per workgroup, fewer registers per invocation. */
const HARDWARE_TILE: QuadTile = { sr: 4, sc: 8, qm: 4, qn: 4 };
let override: { tile?: QuadTile; subgroups?: boolean } | null = null;

/**
 * @internal Forces the quad kernel's tile shape and/or switches its subgroup sharing off (tests, kernel
 * lab); null restores the per-adapter choice.
 */
export function setMatmulKernel(opts: { tile?: QuadTile; subgroups?: boolean } | null): void {
  const tile = opts?.tile;
  if (tile) {
    const { sr, sc, qm, qn } = tile;
    const ok = [sr, sc, qm, qn].every((v) => Number.isInteger(v) && v > 0) && sr % 2 === 0 && sc % 8 === 0;
    if (!ok || 4 * qm * qn > 256)
      fail('INVALID_ARGUMENT', `setMatmulKernel: bad tile ${JSON.stringify(tile)}`);
  }
  override = opts;
}

export function matmulTile(gpu: WebGpuRuntime): QuadTile {
  return override?.tile ?? (gpu.adapter.isSoftware ? SOFTWARE_TILE : HARDWARE_TILE);
}

/** Whether the quad kernel shares loads across the quad (needs `subgroups`; tests may switch it off). */
export function matmulSubgroups(gpu: WebGpuRuntime): boolean {
  return gpu.features.has('subgroups') && override?.subgroups !== false;
}

/** Smallest M and N for the quad kernel: below it most of its 32x32 tile would be wasted work. */
export const QUAD_MIN_MN = 16;

// ---- reductions -----------------------------------------------------------------------------------

/**
 * Chunks per row of a reduction: rows long enough to starve the device when there are few of them are
 * cut into chunks reduced in a second pass (one invocation per row, no barriers: SwiftShader punishes
 * them).
 */
export function reduceChunks(twoPass: boolean, rows: number, length: number): number {
  return twoPass && rows < 1024 && length >= 4096 ? Math.min(256, Math.ceil(length / 1024)) : 1;
}
