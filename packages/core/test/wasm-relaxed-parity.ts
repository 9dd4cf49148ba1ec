/**
 * Run by src/backend/wasm/kernels.test.ts in a fresh child `node --import tsx` (no V8 flags: Node 20 keeps
 * relaxed SIMD behind one, which the runtime turns on itself): the default build (relaxed SIMD, 6x8 FMA
 * micro-kernel) and the plain-SIMD build against the TypeScript reference on matmul and attention forward /
 * backward. Prints one JSON line.
 */
import { attention, attentionBackward, createDevice, type Device, matmul, randn } from '../src/index.js';
import { maxAbsDiff } from './device.js';

async function outputs(dev: Device): Promise<Float32Array[]> {
  const a = randn(dev, [67, 45], { seed: 1 });
  const b = randn(dev, [45, 91], { seed: 2 });
  const [q, k, v, g] = [3, 4, 5, 6].map((seed) => randn(dev, [1, 2, 70, 24], { seed }));
  const { out, lse } = attention.detailed(q!, k!, v!, { causal: true });
  const grads = attentionBackward(q!, k!, v!, out, lse, g!, { causal: true });
  const all = [matmul(a, b), out, lse, grads.dq, grads.dk, grads.dv];
  return Promise.all(all.map(async (t) => (await t.read()) as Float32Array));
}

const plain = await createDevice({ backend: 'cpu', kernels: 'wasm', simd: 'plain', threads: 2 });
const auto = await createDevice({ backend: 'cpu', kernels: 'wasm', threads: 2 });
const ref = await createDevice({ backend: 'cpu', kernels: 'reference' });
const want = await outputs(ref);
const errorsOf = async (dev: Device) => (await outputs(dev)).map((x, i) => maxAbsDiff(x, want[i]!));
const result = {
  flavors: [auto.cpu!.flavor, plain.cpu!.flavor],
  errors: [await errorsOf(auto), await errorsOf(plain)],
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
