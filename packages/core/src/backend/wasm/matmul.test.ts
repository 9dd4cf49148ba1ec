/**
 * wasm matmul vs the TypeScript reference, 1 and 2 threads: square and odd shapes, batches with
 * broadcasting, transposed views (x·Wᵀ, xᵀ·dy), 1-D operands, views into larger storage.
 */
import { describe, expect, it } from 'vitest';
import { expectClose, randomData } from '../../../test/device.js';
import { wasmDevice } from '../../../test/wasm.js';
import { createDevice, type Device, matmul, type Tensor } from '../../index.js';

const devices = async () => ({
  ref: await createDevice({ backend: 'cpu', kernels: 'reference' }),
  one: await wasmDevice(1),
  two: await wasmDevice(2),
  copied: await wasmDevice(2, { arena: false }),
});

function make(dev: Device, shape: number[], seed: number): Tensor {
  return dev.tensor(
    randomData(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
}

type View = (t: Tensor) => Tensor;
const same: View = (t) => t;
const mT: View = (t) => t.mT;

const cases: [string, number[], number[], View, View][] = [
  ['square 64', [64, 64], [64, 64], same, same],
  ['odd 37x53x29', [37, 53], [53, 29], same, same],
  ['tall 200x7x3', [200, 7], [7, 3], same, same],
  ['x·Wᵀ', [33, 48], [48, 40], same, mT],
  ['xᵀ·dy', [33, 50], [50, 20], mT, same],
  ['both transposed', [21, 19], [19, 25], mT, mT],
  ['batched broadcast B', [3, 2, 17, 12], [12, 9], same, same],
  ['batched broadcast A', [17, 12], [4, 12, 10], same, same],
  ['batch dims broadcast both', [2, 1, 9, 8], [1, 3, 8, 13], same, same],
  ['vector · matrix', [31], [31, 18], same, same],
  ['matrix · vector', [18, 31], [31], same, same],
  ['K = 1', [9, 1], [1, 11], same, same],
  ['M = 1', [1, 100], [100, 70], same, same],
];

describe('wasm matmul matches the reference', () => {
  for (const [name, as, bs, va, vb] of cases) {
    it(name, async () => {
      const { ref, one, two, copied } = await devices();
      const run = async (dev: Device) => {
        const a = make(dev, va === mT ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as, 1);
        const b = make(dev, vb === mT ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs, 2);
        const c = matmul(va(a), vb(b));
        return { shape: c.shape, data: (await c.read()) as Float32Array };
      };
      const want = await run(ref);
      for (const dev of [one, two, copied]) {
        const before = dev.cpu!.jobs.get('matmulTask') ?? 0;
        const got = await run(dev);
        expect(dev.cpu!.jobs.get('matmulTask'), `${name}: wasm kernel ran`).toBeGreaterThan(before);
        expect(got.shape).toEqual(want.shape);
        expectClose(got.data, want.data, 1e-5, 1e-5, name);
      }
    });
  }

  it('a slice of a larger storage, and a big product across threads', async () => {
    const { ref, two, copied } = await devices();
    const run = async (dev: Device) => {
      const big = make(dev, [300, 260], 3);
      const a = big.slice(0, 10, 290).slice(1, 3, 200); // [280, 197], offset view
      const b = make(dev, [197, 150], 4);
      return (await matmul(a, b).read()) as Float32Array;
    };
    const want = await run(ref);
    expectClose(await run(two), want, 1e-4, 1e-5, 'slice');
    expectClose(await run(copied), want, 1e-4, 1e-5, 'slice, copied');
  });
});
