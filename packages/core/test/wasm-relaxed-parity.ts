/**
 * Run by src/backend/wasm/kernels.test.ts in a child `node --experimental-wasm-relaxed-simd --import tsx`
 * (Node 20 validates relaxed SIMD only behind that flag): the relaxed-SIMD build (6x8 FMA micro-kernel)
 * against the TypeScript reference on matmul and attention forward / backward. Prints one JSON line.
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

const relaxed = await createDevice({ backend: 'cpu', kernels: 'wasm', simd: 'relaxed', threads: 2 });
const ref = await createDevice({ backend: 'cpu', kernels: 'reference' });
const [got, want] = [await outputs(relaxed), await outputs(ref)];
const errors = got.map((x, i) => maxAbsDiff(x, want[i]!));
process.stdout.write(`${JSON.stringify({ flavor: relaxed.cpu!.flavor, errors })}\n`);
process.exit(0);
