/**
 * The CPU backend's wasm kernels in a real browser (headless Debian chromium; needs no GPU, but lives
 * with the other browser tests in the gpu project): threads over Web Workers on a cross-origin isolated
 * page (COOP/COEP headers), one thread and an unshared memory on a page that is not. Results equal the
 * TypeScript reference in Node.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attention, createDevice, matmul } from '../src/index.js';
import { type CorePage, serveCoreInChromium } from './browser.js';
import { expectClose, onGpu, randomData } from './device.js';

if (onGpu) {
  describe('CPU backend in headless chromium (wasm kernels, Web Workers)', () => {
    let corePage: CorePage;
    beforeAll(async () => {
      corePage = await serveCoreInChromium();
    });
    afterAll(() => corePage?.close());

    const a = Array.from(randomData(150 * 130, 1));
    const b = Array.from(randomData(130 * 140, 2));
    const qkv = [3, 4, 5].map((seed) => Array.from(randomData(2 * 3 * 70 * 16, seed)));

    async function inPage(path: string) {
      const page = await corePage.browser.newPage();
      await page.goto(`${corePage.base}${path}`);
      await page.waitForFunction('window.ready === true');
      const result = await page.evaluate(
        async ({ a, b, qkv }) => {
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
          const mh = (window as any).mh;
          const device = await mh.createDevice({ backend: 'cpu', threads: 2 });
          device.cpu.splitSmall = true; // small test inputs still cross every thread
          const x = device.tensor(new Float32Array(a), [150, 130]);
          const w = device.tensor(new Float32Array(b), [130, 140]);
          const [q, k, v] = qkv.map((d: number[]) => device.tensor(new Float32Array(d), [2, 3, 70, 16]));
          const o = mh.attention(q, k, v, { causal: true });
          return {
            isolated: crossOriginIsolated,
            describe: device.describe(),
            mm: Array.from(await mh.matmul(x, w).read()) as number[],
            attn: Array.from(await o.read()) as number[],
            jobs: device.cpu.jobs.get('matmulTask') ?? 0,
          };
        },
        { a, b, qkv },
      );
      await page.close();
      return result;
    }

    async function expected() {
      const ref = await createDevice({ backend: 'cpu', kernels: 'reference' });
      const [q, k, v] = qkv.map((d) => ref.tensor(new Float32Array(d), [2, 3, 70, 16]));
      return {
        mm: await matmul(
          ref.tensor(new Float32Array(a), [150, 130]),
          ref.tensor(new Float32Array(b), [130, 140]),
        ).read(),
        attn: await attention(q!, k!, v!, { causal: true }).read(),
      };
    }

    it('cross-origin isolated: wasm kernels on 2 threads (Web Workers), equal to the reference', async () => {
      const r = await inPage('/isolated/');
      console.log(`[browser cpu] ${r.describe}`);
      expect(r.isolated).toBe(true);
      expect(r.describe).toMatch(/wasm (relaxed-)?simd, 2 threads/);
      expect(r.jobs).toBeGreaterThan(0);
      const want = await expected();
      expectClose(r.mm, want.mm, 1e-4, 1e-5, 'matmul in the browser');
      expectClose(r.attn, want.attn, 1e-5, 1e-5, 'attention in the browser');
    });

    it('not isolated: one thread over an unshared memory, equal to the reference', async () => {
      const r = await inPage('/plain/');
      expect(r.isolated).toBe(false);
      expect(r.describe).toMatch(/wasm (relaxed-)?simd, 1 thread\)/);
      const want = await expected();
      expectClose(r.mm, want.mm, 1e-4, 1e-5, 'matmul in the browser');
      expectClose(r.attn, want.attn, 1e-5, 1e-5, 'attention in the browser');
    });
  });
}
