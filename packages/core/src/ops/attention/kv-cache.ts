/**
 * A key/value cache for autoregressive decoding: preallocated [B, Hkv, capacity, D] buffers that
 * `append` writes into, and `view()` as zero-copy slices of the filled part. With `window` set, only
 * the last `window` positions are kept: the buffers hold 2·window rows, and when they fill up the last
 * window-1 rows are moved to the front once (amortized O(1) per token instead of shifting each step).
 * Positions are absolute (`position` counts every token ever appended), so RoPE can be applied to keys
 * before they enter the cache, and queries attend with `causal: 'bottom-right'`.
 */
import type { Device } from '../../device.js';
import { fail } from '../../errors.js';
import { fmt } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { copy, copyInto } from '../elementwise.js';

export interface KVCacheOptions {
  batch: number;
  kvHeads: number;
  headDim: number;
  /** Defaults to headDim. */
  valueDim?: number;
  /** Most positions held without a window (the buffers' size). */
  maxLength?: number;
  /** Keep only the last `window` positions (sliding-window attention); evicts older ones. */
  window?: number;
}

export class KVCache {
  readonly batch: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly window: number | null;
  readonly capacity: number;
  private readonly keys: Tensor;
  private readonly values: Tensor;
  /** Rows filled in the buffers. */
  private filled = 0;
  /** Tokens appended since creation (or reset). */
  private total = 0;

  constructor(
    readonly device: Device,
    opts: KVCacheOptions,
  ) {
    const { batch, kvHeads, headDim } = opts;
    this.valueDim = opts.valueDim ?? headDim;
    for (const [name, v] of Object.entries({ batch, kvHeads, headDim, valueDim: this.valueDim })) {
      if (!Number.isInteger(v) || v < 1)
        fail('INVALID_ARGUMENT', `KVCache: ${name} must be a positive integer, got ${v}`);
    }
    if (opts.window !== undefined && (!Number.isInteger(opts.window) || opts.window < 1)) {
      fail('INVALID_ARGUMENT', `KVCache: window must be a positive integer, got ${opts.window}`);
    }
    if (opts.window === undefined && (opts.maxLength === undefined || opts.maxLength < 1)) {
      fail('INVALID_ARGUMENT', 'KVCache: give maxLength (positions to hold) or window (positions to keep)');
    }
    this.batch = batch;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.window = opts.window ?? null;
    this.capacity = this.window !== null ? 2 * this.window : opts.maxLength!;
    this.keys = device.zeros([batch, kvHeads, this.capacity, headDim]);
    this.values = device.zeros([batch, kvHeads, this.capacity, this.valueDim]);
  }

  /** Cached positions visible now (at most `window`). */
  get length(): number {
    return this.window !== null ? Math.min(this.filled, this.window) : this.filled;
  }

  /** Tokens appended so far: the absolute position of the next token. */
  get position(): number {
    return this.total;
  }

  /** Appends n new positions: k [B, Hkv, n, D], v [B, Hkv, n, Dv]. */
  append(k: Tensor, v: Tensor): void {
    const expect = (name: string, t: Tensor, dim: number) => {
      const ok =
        t.rank === 4 &&
        t.shape[0] === this.batch &&
        t.shape[1] === this.kvHeads &&
        t.shape[3] === dim &&
        t.shape[2] === k.shape[2];
      if (!ok) {
        fail(
          'SHAPE_MISMATCH',
          `KVCache.append: ${name} ${fmt(t.shape)}; expected [${this.batch}, ${this.kvHeads}, n, ${dim}] with the same n for k and v`,
        );
      }
    };
    expect('k', k, this.headDim);
    expect('v', v, this.valueDim);
    let n = k.shape[2]!;
    let src = 0;
    if (this.window !== null && n > this.window) {
      // only the last `window` of a long prompt can ever be seen again
      src = n - this.window;
      this.total += src;
      n = this.window;
    }
    if (this.filled + n > this.capacity) {
      if (this.window === null) {
        fail(
          'OUT_OF_MEMORY',
          `KVCache.append: ${this.filled} + ${n} positions exceed maxLength ${this.capacity}`,
        );
      }
      this.compact(this.window - n);
    }
    for (const [buffer, t] of [
      [this.keys, k],
      [this.values, v],
    ] as const) {
      const dst = buffer.slice(2, this.filled, this.filled + n);
      const from = t.slice(2, src, src + n);
      copyInto(dst, from);
      dst.dispose();
      from.dispose();
    }
    this.filled += n;
    this.total += n;
  }

  /** Keeps the last `keep` rows, moved to the front of the buffers (through a copy: the ranges may overlap). */
  private compact(keep: number): void {
    for (const buffer of [this.keys, this.values]) {
      const tail = buffer.slice(2, this.filled - keep, this.filled);
      const moved = copy(tail);
      const head = buffer.slice(2, 0, keep);
      copyInto(head, moved);
      for (const t of [tail, moved, head]) t.dispose();
    }
    this.filled = keep;
  }

  /** Zero-copy views of the visible positions: k [B, Hkv, length, D], v [B, Hkv, length, Dv]. */
  view(): { k: Tensor; v: Tensor } {
    const start = this.filled - this.length;
    return { k: this.keys.slice(2, start, this.filled), v: this.values.slice(2, start, this.filled) };
  }

  reset(): void {
    this.filled = 0;
    this.total = 0;
  }

  dispose(): void {
    this.keys.dispose();
    this.values.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
