/**
 * The committed kernels are the ones the sources build (CI catches a stale kernels.generated.ts), the
 * relaxed-SIMD build agrees with the reference, and the unshared variant (pages that are not
 * cross-origin isolated) instantiates over an ordinary memory.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDevice } from '../../index.js';
import { KERNELS_SIMD } from './kernels.generated.js';
import { unsharedVariant, WasmRuntime } from './runtime.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('wasm kernels', () => {
  it('kernels.generated.ts is what `pnpm --filter @multihead/core build:wasm` writes', () => {
    const out = execFileSync(process.execPath, ['wasm/build.mjs', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out).toContain('up to date');
  }, 120_000);

  it('a fresh Node turns relaxed SIMD on by itself; both builds match the reference', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/wasm-relaxed-parity.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    const { flavors, errors } = JSON.parse(out.trim().split('\n').pop()!) as {
      flavors: string[];
      errors: number[][];
    };
    expect(flavors).toEqual(['relaxed-simd', 'simd']);
    // matmul, out, lse, dq, dk, dv: fused multiply-add rounds differently, within f32 noise
    for (const [b, build] of errors.entries())
      for (const [i, e] of build.entries()) expect(e, `${flavors[b]} output ${i}`).toBeLessThan(2e-4);
  }, 120_000);

  it('simd: plain forces the plain build', async () => {
    const dev = await createDevice({ backend: 'cpu', kernels: 'wasm', simd: 'plain', threads: 1 });
    expect(dev.cpu!.flavor).toBe('simd');
    expect(dev.reason).toContain('wasm simd, 1 thread');
    expect(WasmRuntime.supported()).toBe(true);
  });

  it('the unshared variant runs over an ordinary memory', async () => {
    const bytes = Uint8Array.from(atob(KERNELS_SIMD), (c) => c.charCodeAt(0));
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 100 });
    expect(WebAssembly.validate(bytes)).toBe(true);
    await expect(WebAssembly.instantiate(bytes, { env: { memory } })).rejects.toThrow();
    const { instance } = await WebAssembly.instantiate(unsharedVariant(bytes), { env: { memory } });
    // C[4, 4] = A[4, 2]·B[2, 4] through the small-tile gemm
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5, 6, 7, 8], 1024); // A at byte 4096
    f.set([1, 0, 0, 1, 0, 1, 1, 0], 2048); // B at byte 8192
    const gemm = instance.exports.gemm as (...a: number[]) => void;
    gemm(4, 4, 2, 4096, 2, 1, 8192, 4, 8, 12288, 4, 0);
    expect([...f.subarray(3072, 3088)]).toEqual([1, 2, 2, 1, 3, 4, 4, 3, 5, 6, 6, 5, 7, 8, 8, 7]);
  });

  it('rejects bad options', async () => {
    await expect(createDevice({ backend: 'cpu', threads: 0 })).rejects.toThrow(/threads/);
    await expect(createDevice({ backend: 'cpu', kernels: 'fast' as 'wasm' })).rejects.toThrow(/kernels/);
  });
});
