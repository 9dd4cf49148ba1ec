/** Memory is part of correctness: 1000 iterations of an op chain inside tidy leave memory flat. */
import { expect, it } from 'vitest';
import { add, gelu, layerNorm, matmul, mean, models, nn, optim, softmax, tidy, train } from '../src/index.js';
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
  const heapStart = dev.cpu?.heapBytes ?? 0;
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
  expect(dev.cpu?.heapBytes ?? 0, 'bytes in the wasm memory').toBe(heapStart);
  expect(Number.isFinite(last)).toBe(true);
  x.dispose();
  w.dispose();
});

it('1000 training steps of a small transformer keep live tensors and GPU bytes flat', async () => {
  const { dev } = await getDevices();
  const gpt = new models.GPT(dev, { vocabSize: 16, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, seed: 3 });
  const opt = new optim.AdamW(gpt.parameters(), { lr: 1e-3 });
  const ids = dev.tensor(
    Int32Array.from({ length: 4 * 8 }, (_, i) => (i * 7) % 16),
    [4, 8],
    { dtype: 'i32' },
  );
  const targets = dev.tensor(
    Int32Array.from({ length: 4 * 8 }, (_, i) => (i * 7 + 7) % 16),
    [4, 8],
    {
      dtype: 'i32',
    },
  );
  const run = (steps: number) =>
    train({
      optimizer: opt,
      steps,
      progressEvery: 250,
      batch: () => null,
      loss: () => nn.crossEntropy(gpt.forward(ids), targets),
    });
  // warm up: pipelines compiled, optimizer state made, the pool filled
  await run(10);
  await dev.sync();
  const start = dev.memory();
  const heapStart = dev.cpu?.heapBytes ?? 0;
  const summary = await run(1000);
  await dev.sync();
  const end = dev.memory();
  expect(end.liveTensors).toBe(start.liveTensors);
  expect(end.liveBytes).toBe(start.liveBytes);
  expect(end.gpuAllocatedBytes).toBe(start.gpuAllocatedBytes);
  expect(dev.cpu?.heapBytes ?? 0, 'bytes in the wasm memory').toBe(heapStart);
  expect(summary.finalLoss).toBeLessThan(summary.losses[0]!.loss); // it trained
  for (const t of [ids, targets]) t.dispose();
  opt.dispose();
  gpt.dispose();
}, 300_000);
