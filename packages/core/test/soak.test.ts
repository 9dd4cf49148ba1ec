/** Memory is part of correctness: 1000 iterations of an op chain inside tidy leave memory flat. */
import { expect, it } from 'vitest';
import { add, gelu, layerNorm, matmul, mean, softmax, tidy } from '../src/index.js';
import { getDevices, randomData } from './device.js';

it('1000 iterations of a chain of ops in tidy keep live tensors and GPU bytes flat', async () => {
  const { dev } = await getDevices();
  const x = dev.tensor(randomData(16 * 32, 1), [16, 32]);
  const w = dev.tensor(randomData(32 * 32, 2, 0.2), [32, 32]);
  const step = () => tidy(() => mean(softmax(add(gelu(layerNorm(matmul(x, w), [32])), x), -1)));
  // warm up: pipelines compiled, the pool filled
  for (let i = 0; i < 10; i++) step().dispose();
  await dev.sync();
  const start = dev.memory();
  let last = 0;
  for (let i = 0; i < 1000; i++) {
    const out = step();
    if (i % 250 === 249) last = (await out.read())[0]!;
    out.dispose();
  }
  await dev.sync();
  const end = dev.memory();
  expect(end.liveTensors).toBe(start.liveTensors);
  expect(end.liveBytes).toBe(start.liveBytes);
  expect(end.gpuAllocatedBytes).toBe(start.gpuAllocatedBytes);
  expect(Number.isFinite(last)).toBe(true);
  x.dispose();
  w.dispose();
});
