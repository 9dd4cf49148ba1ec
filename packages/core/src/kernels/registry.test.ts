/**
 * The profiling hook of runKernel (kernelTiming): off by default, and when set it reports each call's
 * own time, with the time of kernels run inside it (through runKernel) reported apart and subtracted.
 * A fake clock makes the times exact.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDevice } from '../index.js';
import { type KernelName, kernelTiming, registerBackend, registerKernels, runKernel } from './registry.js';

let clock = 0;
const spend = (ms: number) => {
  clock += ms;
};

registerBackend({ name: 'timing-test', storage: 'host' });
registerKernels('timing-test', {
  // an "inner" kernel that takes 5 ms
  ScaleInPlace: () => spend(5),
  // an "outer" kernel that takes 2 ms itself and runs the inner one twice
  SgdStep: (args, device) => {
    spend(1);
    runKernel('ScaleInPlace', device, args as never);
    runKernel('ScaleInPlace', device, args as never);
    spend(1);
  },
});

describe('kernelTiming', () => {
  afterEach(() => {
    kernelTiming.hook = null;
    vi.restoreAllMocks();
  });

  it('is off by default', () => {
    expect(kernelTiming.hook).toBeNull();
  });

  it("reports each kernel's own time, nested kernels apart", async () => {
    const device = await createDevice({ backend: 'cpu', kernels: 'timing-test' });
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const seen: [KernelName, number, unknown][] = [];
    const args = { marker: 1 };
    kernelTiming.hook = (kernel, a, on, ms) => {
      expect(on).toBe(device);
      seen.push([kernel, ms, a]);
    };
    runKernel('SgdStep', device, args as never);
    runKernel('ScaleInPlace', device, args as never);
    expect(seen.map(([k, ms]) => [k, ms])).toEqual([
      ['ScaleInPlace', 5],
      ['ScaleInPlace', 5],
      ['SgdStep', 2],
      ['ScaleInPlace', 5],
    ]);
    expect(seen.every(([, , a]) => a === args)).toBe(true);
  });

  it('reports a kernel that throws, and rethrows', async () => {
    const device = await createDevice({ backend: 'cpu', kernels: 'timing-test' });
    registerKernels('timing-test', {
      Reduce: () => {
        spend(3);
        throw new Error('boom');
      },
    });
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const seen: [KernelName, number][] = [];
    kernelTiming.hook = (kernel, _a, _d, ms) => seen.push([kernel, ms]);
    expect(() => runKernel('Reduce', device, {} as never)).toThrow('boom');
    expect(seen).toEqual([['Reduce', 3]]);
  });
});
