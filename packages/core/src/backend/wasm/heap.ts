/**
 * The allocator of the wasm runtime's memory (runtime.ts): blocks for tensors that live in the memory
 * (the CPU backend's arena, docs/decisions.md "CPU backend: tensors in the WebAssembly memory") and for
 * each op's scratch, both freed explicitly.
 *
 * Free blocks are kept sorted by address, so a freed block merges with free neighbours and memory that
 * varying shapes leave behind (a KV cache growing one token a step) is reused, not grown past. A request
 * takes the best-fitting free block (an exact size first: a training step allocates the same sizes every
 * step), splitting off the rest; when none fits, the heap grows at its end. Every block is a multiple of
 * 64 bytes (cache lines) and starts on one.
 */
import { fail } from '../../errors.js';

export const BLOCK_ALIGN = 64;

const round = (bytes: number) => Math.max(BLOCK_ALIGN, Math.ceil(bytes / BLOCK_ALIGN) * BLOCK_ALIGN);

export class WasmHeap {
  /** Free blocks: start addresses, ascending, and their sizes (parallel arrays). */
  private readonly freeAt: number[] = [];
  private readonly freeSize: number[] = [];
  /** Sizes of the blocks handed out, by start address. */
  private readonly used = new Map<number, number>();
  private end: number;
  private usedBytes = 0;

  /**
   * @param base the first address the heap may hand out (64-aligned)
   * @param grow makes the memory at least `bytes` long, or throws
   */
  constructor(
    base: number,
    private readonly grow: (bytes: number) => void,
  ) {
    this.end = base;
  }

  /** Bytes in blocks handed out and not yet freed. */
  get allocatedBytes(): number {
    return this.usedBytes;
  }

  /** The heap's end: the highest address it has handed out so far, plus one. */
  get highWater(): number {
    return this.end;
  }

  /** Free blocks (tests check that freeing everything leaves one block, merged). */
  get freeBlocks(): number {
    return this.freeAt.length;
  }

  /** The start of a block of at least `bytes` (a multiple of 64, 64-aligned; contents undefined). */
  malloc(bytes: number): number {
    const size = round(bytes);
    const i = this.bestFit(size);
    let at: number;
    if (i >= 0) {
      at = this.freeAt[i]!;
      const rest = this.freeSize[i]! - size;
      if (rest > 0) {
        this.freeAt[i] = at + size;
        this.freeSize[i] = rest;
      } else {
        this.freeAt.splice(i, 1);
        this.freeSize.splice(i, 1);
      }
    } else {
      // a free block at the end is extended rather than left behind
      const last = this.freeAt.length - 1;
      const tail = last >= 0 && this.freeAt[last]! + this.freeSize[last]! === this.end ? last : -1;
      at = tail >= 0 ? this.freeAt[tail]! : this.end;
      this.grow(at + size);
      if (tail >= 0) {
        this.freeAt.pop();
        this.freeSize.pop();
      }
      this.end = at + size;
    }
    this.used.set(at, size);
    this.usedBytes += size;
    return at;
  }

  /** Returns a block from `malloc`; freeing anything else is a bug and throws. */
  free(at: number): void {
    const size = this.used.get(at);
    if (size === undefined) fail('INVALID_ARGUMENT', `wasm heap: free(${at}): not an allocated block`);
    this.used.delete(at);
    this.usedBytes -= size;
    // insert in address order, merging with the free neighbours it touches
    let lo = 0;
    let hi = this.freeAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeAt[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo - 1;
    const mergesPrev = prev >= 0 && this.freeAt[prev]! + this.freeSize[prev]! === at;
    const mergesNext = lo < this.freeAt.length && at + size === this.freeAt[lo]!;
    if (mergesPrev && mergesNext) {
      this.freeSize[prev]! += size + this.freeSize[lo]!;
      this.freeAt.splice(lo, 1);
      this.freeSize.splice(lo, 1);
    } else if (mergesPrev) {
      this.freeSize[prev]! += size;
    } else if (mergesNext) {
      this.freeAt[lo] = at;
      this.freeSize[lo]! += size;
    } else {
      this.freeAt.splice(lo, 0, at);
      this.freeSize.splice(lo, 0, size);
    }
  }

  /** Whether `at` is the start of a block handed out and not freed. */
  owns(at: number): boolean {
    return this.used.has(at);
  }

  /** Index of the smallest free block of at least `size` bytes (an exact fit ends the search), or -1. */
  private bestFit(size: number): number {
    let best = -1;
    let bestSize = Number.POSITIVE_INFINITY;
    const sizes = this.freeSize;
    for (let i = 0; i < sizes.length; i++) {
      const s = sizes[i]!;
      if (s < size || s >= bestSize) continue;
      best = i;
      bestSize = s;
      if (s === size) break;
    }
    return best;
  }
}
