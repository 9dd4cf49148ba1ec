/**
 * Host arrays of disposed CPU tensors, kept for the next tensor of the same dtype and length. A
 * training step allocates the same shapes every step, and a fresh large typed array is expensive:
 * V8 takes zeroed pages from the system, so the first write to each faults (a 1.6 MB Float32Array
 * cost 1.8 ms to make and 5.5 ms to make and fill on the reference machine, against 0.07 ms to fill a
 * reused one). A reused array is zeroed again, as `Device.empty` promises zeros on the CPU.
 */
import type { DType, TypedArray } from './dtype.js';

/** The array type each dtype is stored in on the host (dtype.ts `cpuArray`). */
const KIND: Record<DType, string> = {
  f32: 'Float32Array',
  f16: 'Float32Array',
  i32: 'Int32Array',
  u32: 'Uint32Array',
  bool: 'Uint8Array',
};

/** Arrays smaller than this are cheap to make (V8's allocator recycles them); not pooled. */
const MIN_POOLED_BYTES = 16 << 10;

export class HostPool {
  /** Idle arrays by `${constructor}:${length}`, least recently returned key first. */
  private readonly idle = new Map<string, TypedArray[]>();
  private idleBytes = 0;

  /** @param maxBytes the most bytes kept idle; past it the least recently used sizes are dropped. */
  constructor(private readonly maxBytes = 256 << 20) {}

  get bytes(): number {
    return this.idleBytes;
  }

  /**
   * An idle array of this kind and length, or null: zero-filled, unless `zeroed` is false (the caller
   * writes every element before anything reads it: a product's or an element-wise op's output).
   */
  take(dtype: DType, length: number, zeroed = true): TypedArray | null {
    const list = this.idle.get(`${KIND[dtype]}:${length}`);
    const array = list?.pop();
    if (!array) return null;
    this.idleBytes -= array.byteLength;
    if (zeroed) array.fill(0);
    return array;
  }

  /** Keeps `array` (no longer used by any tensor) for a later `take`. */
  give(array: TypedArray): void {
    if (array.byteLength < MIN_POOLED_BYTES || array.byteLength > this.maxBytes) return;
    const k = `${array.constructor.name}:${array.length}`;
    const list = this.idle.get(k) ?? [];
    this.idle.delete(k); // re-inserted last: the most recently used size
    this.idle.set(k, list);
    list.push(array);
    this.idleBytes += array.byteLength;
    for (const [other, arrays] of this.idle) {
      if (this.idleBytes <= this.maxBytes) break;
      while (arrays.length > 0 && this.idleBytes > this.maxBytes)
        this.idleBytes -= arrays.shift()!.byteLength;
      if (arrays.length === 0) this.idle.delete(other);
    }
  }

  clear(): void {
    this.idle.clear();
    this.idleBytes = 0;
  }
}
