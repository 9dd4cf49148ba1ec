import { describe, expect, it } from 'vitest';
import { WasmHeap } from './heap.js';

const BASE = 4096;

function heap() {
  let memory = BASE;
  const h = new WasmHeap(BASE, (bytes) => {
    memory = Math.max(memory, bytes);
  });
  return { h, memory: () => memory };
}

describe('WasmHeap', () => {
  it('hands out 64-aligned blocks from the base and grows the memory to cover them', () => {
    const { h, memory } = heap();
    const a = h.malloc(1);
    const b = h.malloc(100);
    expect([a, b]).toEqual([BASE, BASE + 64]);
    expect(memory()).toBe(BASE + 64 + 128);
    expect(h.allocatedBytes).toBe(192);
  });

  it('reuses a freed block of the same size before growing', () => {
    const { h } = heap();
    const a = h.malloc(1000);
    h.malloc(64);
    h.free(a);
    expect(h.malloc(1000)).toBe(a);
    expect(h.highWater).toBe(BASE + 1024 + 64);
  });

  it('merges freed neighbours, so freeing everything leaves one block that a larger request fits', () => {
    const { h } = heap();
    const blocks = [640, 64, 128, 1024, 192].map((n) => h.malloc(n));
    for (const i of [1, 3, 0, 4, 2]) h.free(blocks[i]!);
    expect(h.freeBlocks).toBe(1);
    expect(h.allocatedBytes).toBe(0);
    const top = h.highWater;
    expect(h.malloc(640 + 64 + 128 + 1024 + 192)).toBe(BASE);
    expect(h.highWater).toBe(top);
  });

  it('extends a free block at its end instead of leaving it behind (a buffer growing a little each step)', () => {
    const { h } = heap();
    let block = h.malloc(64);
    for (let n = 2; n <= 200; n++) {
      const next = h.malloc(64 * n);
      h.free(block);
      block = next;
    }
    // without reuse the heap would reach 64·(1 + 2 + ... + 200) = 1 286 400 bytes; with it, within three
    // of the last size (the new block is taken before the old one is freed, so they alternate ends)
    expect(h.highWater - BASE).toBeLessThanOrEqual(3 * 64 * 200);
    expect(h.allocatedBytes).toBe(64 * 200);
  });

  it('never hands out overlapping blocks (random allocations and frees against a model)', () => {
    const { h, memory } = heap();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const live = new Map<number, number>();
    for (let step = 0; step < 5000; step++) {
      if (live.size > 0 && rand(3) === 0) {
        const keys = [...live.keys()];
        const at = keys[rand(keys.length)]!;
        h.free(at);
        live.delete(at);
      } else {
        const bytes = 1 + rand(rand(2) ? 256 : 8192);
        const at = h.malloc(bytes);
        expect(at % 64).toBe(0);
        expect(at + bytes).toBeLessThanOrEqual(memory());
        const overlapping = [...live].filter(([other, n]) => at + bytes > other && other + n > at);
        expect(overlapping).toEqual([]);
        live.set(at, bytes);
      }
    }
    for (const at of live.keys()) h.free(at);
    expect(h.freeBlocks).toBe(1);
    expect(h.allocatedBytes).toBe(0);
  });

  it('refuses to free what it did not hand out', () => {
    const { h } = heap();
    const a = h.malloc(64);
    expect(() => h.free(a + 64)).toThrow(/not an allocated block/);
    h.free(a);
    expect(() => h.free(a)).toThrow(/not an allocated block/);
  });
});
