/**
 * How the wasm backend splits work, in one file (as FlashAttention keeps its choices in
 * `hopper/heuristics.h`): when a call is worth staging into wasm at all, when it stays on the calling
 * thread, and how large a task is. Measured on the 2-core machine (docs/decisions.md "CPU backend").
 */
import type { WasmRuntime } from './runtime.js';

/**
 * Below this many multiply-adds (~0.1 ms on one core) a product runs on the calling thread only:
 * waking a worker costs tens of microseconds, and far more on a loaded machine.
 */
export const INLINE_MACS = 1 << 21;

/** Attention score entries below which a call stays on the calling thread. */
export const INLINE_SCORES = 1 << 14;

/**
 * Query rows per attention task (forward, dQ): a multiple of the gemm's register block (6 rows with
 * fused multiply-add, else 4) so tiles run whole blocks; [QT, KB] score tiles stay in L1.
 */
export const attentionQueryTile = (rt: WasmRuntime) => (rt.call('gemmRowBlock') === 6 ? 36 : 32);
/**
 * Query (and key) cells per neighbourhood-attention strip: the strip's queries share one run of
 * QT + kw - 1 keys per window row, so a longer strip reuses each packed key more but scores more keys
 * outside a query's window; a multiple of the gemm's register block (6 rows with fused multiply-add,
 * else 4) so tiles run whole blocks.
 */
export const neighborhoodStrip = (rt: WasmRuntime, _kw: number) => 2 * rt.call('gemmRowBlock');

/** Keys per attention block (and per dK/dV task). */
export const ATTENTION_KEY_BLOCK = 64;

/** Row ops (softmax, norms, cross-entropy, AdamW) below this many elements run the reference. */
export const ROWS_MIN_ELEMENTS = 512;
/** Elementwise ops below this many elements run the reference: staging in and out costs as much. */
export const MAP_MIN_ELEMENTS = 256;
/** Elements per task of row and elementwise jobs (below twice this, the calling thread alone). */
const TASK_ELEMENTS = 1 << 15;

/** Elements per task (small with `splitSmall`, so that test-sized inputs run on every thread). */
export const taskElements = (rt: WasmRuntime) => (rt.splitSmall ? 256 : TASK_ELEMENTS);

/** Rows per task for rows of `n` elements. */
export const rowsPerTask = (rt: WasmRuntime, n: number) =>
  Math.max(1, Math.floor(taskElements(rt) / Math.max(1, n)));
