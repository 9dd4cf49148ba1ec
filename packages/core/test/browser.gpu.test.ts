/**
 * @multihead/core in a real browser: the package is bundled for the browser, served on 127.0.0.1 and
 * run in headless Debian chromium with WebGPU (SwiftShader when there is no GPU) through
 * `navigator.gpu`. Results are compared with the CPU backend in Node.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerNorm, matmul, softmax } from '../src/index.js';
import { type CorePage, serveCoreInChromium } from './browser.js';
import { expectClose, getDevices, onGpu, randomData } from './device.js';

if (onGpu) {
  describe('in headless chromium through navigator.gpu (gpu)', () => {
    let corePage: CorePage;
    beforeAll(async () => {
      corePage = await serveCoreInChromium([
        '--enable-unsafe-webgpu',
        '--use-webgpu-adapter=swiftshader',
        '--enable-features=Vulkan',
      ]);
    });
    afterAll(() => corePage?.close());

    it('runs matmul, softmax and layerNorm on the browser adapter, equal to the CPU backend', async () => {
      const page = await corePage.browser.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      await page.goto(`${corePage.base}/`);
      await page.waitForFunction('window.ready === true');
      const a = Array.from(randomData(24 * 16, 1));
      const b = Array.from(randomData(16 * 20, 2));
      const result = await page.evaluate(
        async ({ a, b }) => {
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's exports on window
          const mh = (window as any).mh;
          const device = await mh.createDevice({ backend: 'webgpu' });
          const x = device.tensor(new Float32Array(a), [24, 16]);
          const w = device.tensor(new Float32Array(b), [16, 20]);
          const y = mh.matmul(x, w);
          const s = mh.softmax(y, -1);
          const n = mh.layerNorm(y, [20]);
          return {
            adapter: device.adapter,
            mm: Array.from(await y.read()),
            sm: Array.from(await s.read()),
            ln: Array.from(await n.read()),
          };
        },
        { a, b },
      );
      console.log(`[browser test] adapter: ${JSON.stringify(result.adapter)}`);
      expect(result.adapter.source).toBe('navigator.gpu');
      const { cpu } = await getDevices();
      const x = cpu.tensor(new Float32Array(a), [24, 16]);
      const w = cpu.tensor(new Float32Array(b), [16, 20]);
      const y = matmul(x, w);
      expectClose(result.mm as number[], await y.read(), 1e-5, 1e-5, 'matmul in the browser');
      expectClose(result.sm as number[], await softmax(y, -1).read(), 1e-6, 1e-5, 'softmax in the browser');
      expectClose(
        result.ln as number[],
        await layerNorm(y, [20]).read(),
        1e-5,
        1e-5,
        'layerNorm in the browser',
      );
      await page.close();
    });
  });
}
