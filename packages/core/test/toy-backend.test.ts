/**
 * A backend added from this file alone (kernels/registry.ts): 'counting' keeps tensors on the host,
 * counts every kernel call and delegates to the reference kernels, except DropoutMask, which it leaves
 * to its fallback (the reference) so the one log line per (kernel, backend) shows. A small GPT trains
 * one step on it, with dropout, and must give exactly the reference backend's loss, gradients and
 * updated weights, having run every kernel it registered that the step needs.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  createDevice,
  type Device,
  getKernel,
  type KernelImpl,
  type KernelName,
  kernelLog,
  MultiheadError,
  models,
  nn,
  optim,
  rand,
  registerBackend,
  registeredKernels,
  registerKernel,
  type Tensor,
  tidy,
} from '../src/index.js';

const LEFT_TO_FALLBACK: KernelName = 'DropoutMask';
const calls = new Map<KernelName, number>();

registerBackend({ name: 'counting', storage: 'host' }); // fallback: the reference
for (const kernel of registeredKernels('reference')) {
  if (kernel === LEFT_TO_FALLBACK) continue;
  const reference = getKernel(kernel, 'reference') as KernelImpl<KernelName>;
  const run = ((args: never, device: Device) => {
    calls.set(kernel, (calls.get(kernel) ?? 0) + 1);
    return reference(args, device);
  }) as KernelImpl<KernelName>;
  registerKernel({ kernel, backend: 'counting', run });
}

const config = { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.1, seed: 7 };
const ids = (device: Device, rows: number[][]) =>
  device.tensor(Int32Array.from(rows.flat()), [rows.length, rows[0]!.length], { dtype: 'i32' });

/** One training step of a small GPT: loss, every parameter's gradient, and the weights after AdamW. */
async function trainStep(device: Device) {
  const gpt = new models.GPT(device, config);
  const opt = new optim.AdamW(gpt.parameters(), { lr: 1e-2, weightDecay: 0.1 });
  const input = ids(device, [
    [1, 4, 2, 9, 3, 7, 0, 5],
    [5, 5, 0, 8, 2, 12, 11, 3],
  ]);
  const targets = ids(device, [
    [4, 2, 9, 3, 7, 0, 5, 6],
    [5, 0, 8, 2, 12, 11, 3, 1],
  ]);
  const loss = tidy(() => nn.crossEntropy(gpt.forward(input), targets));
  loss.backward();
  const named = gpt.namedParameters();
  const grads = await Promise.all(named.map(([, p]) => (p.grad as Tensor).read()));
  opt.step();
  const weights = await Promise.all(named.map(([, p]) => p.read()));
  const result = { loss: await loss.read(), names: named.map(([n]) => n), grads, weights };
  for (const t of [loss, input, targets]) t.dispose();
  gpt.dispose();
  return result;
}

describe('a kernel backend registered from a test file', () => {
  const logged: string[] = [];
  const log = vi.spyOn(kernelLog, 'write').mockImplementation((line) => {
    logged.push(line);
  });
  afterAll(() => log.mockRestore());

  it('trains a GPT step with exactly the reference results, counting its kernels', async () => {
    const counting = await createDevice({ backend: 'cpu', kernels: 'counting' });
    const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });
    expect(counting.kernels).toBe('counting');
    expect(counting.describe()).toBe("cpu (kernels 'counting')");
    const got = await trainStep(counting);
    const want = await trainStep(reference);
    expect(got.names).toEqual(want.names);
    expect(got.loss).toEqual(want.loss);
    expect(Number.isFinite(got.loss[0]!)).toBe(true);
    got.names.forEach((name, i) => {
      expect(got.grads[i], `grad of ${name}`).toEqual(want.grads[i]);
      expect(got.weights[i], `${name} after AdamW`).toEqual(want.weights[i]);
    });
    // the kernels a GPT training step runs, each seen by the counting backend
    for (const kernel of [
      'Gather',
      'Map',
      'Norm',
      'MatMul',
      'FlashAttention',
      'CrossEntropy',
      'CrossEntropyGrad',
      'FlashAttentionGrad',
      'NormGrad',
      'IndexAdd',
      'Reduce',
      'AdamWStep',
    ] as const) {
      expect(calls.get(kernel) ?? 0, kernel).toBeGreaterThan(0);
    }
    // two attention layers: one fused forward and one fused backward each
    expect(calls.get('FlashAttention')).toBe(config.nLayer);
    expect(calls.get('FlashAttentionGrad')).toBe(config.nLayer);
    expect(calls.get(LEFT_TO_FALLBACK)).toBeUndefined();
    // the kernel it lacks ran on the reference (several dropout layers), logged once
    expect(logged).toEqual([
      "multihead: kernel DropoutMask is not implemented on backend 'counting'; running the 'reference' kernel",
    ]);
    counting.destroy();
    reference.destroy();
  });

  it('a backend without a fallback refuses a missing kernel with UNSUPPORTED, naming both', async () => {
    registerBackend({ name: 'bare', storage: 'host', fallback: null });
    const bare = await createDevice({ backend: 'cpu', kernels: 'bare' });
    const error = (() => {
      try {
        rand(bare, [2, 2], { seed: 1 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(MultiheadError);
    expect((error as MultiheadError).code).toBe('UNSUPPORTED');
    expect((error as MultiheadError).message).toMatch(
      /kernel RandomFill has no implementation on backend 'bare'/,
    );
    bare.destroy();
  });

  it('refuses unknown backends and kernels for the wrong storage with clear errors', async () => {
    await expect(createDevice({ backend: 'cpu', kernels: 'nosuch' })).rejects.toThrow(
      /kernels "nosuch"; expected 'auto', 'wasm', 'reference' or a backend registered with registerBackend/,
    );
    expect(() => registerKernel({ kernel: 'Map', backend: 'nosuch', run: () => undefined })).toThrow(
      /backend 'nosuch' is not registered/,
    );
    expect(() => registerBackend({ name: 'Bad Name', storage: 'host' })).toThrow(/lower-case identifier/);
  });
});
