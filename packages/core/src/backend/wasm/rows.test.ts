/**
 * wasm row and element-wise kernels vs the TypeScript reference, 1 and 2 threads: softmax / logSoftmax,
 * layer and RMS norm with their gradients, cross-entropy (ignoreIndex, label smoothing) with its
 * gradient, GELU (exact and tanh) with its gradient, the element-wise engine (up to rank 6), and AdamW
 * steps (with AMSGrad).
 */
import { describe, expect, it } from 'vitest';
import { expectClose, randomData } from '../../../test/device.js';
import { WASM_VARIANTS, wasmDevice } from '../../../test/wasm.js';
import {
  add,
  copyInto,
  createDevice,
  type Device,
  div,
  gelu,
  layerNorm,
  logSoftmax,
  mul,
  nn,
  optim,
  relu,
  rmsNorm,
  softmax,
  sum,
  type Tensor,
} from '../../index.js';
import type { WasmKernelName } from './runtime.js';

/** 1 and 2 threads (small tasks, so these test sizes cross the threaded paths), in place and copying. */
const variants = () => Promise.all(WASM_VARIANTS.map((v) => wasmDevice(v.threads, v)));
const reference = () => createDevice({ backend: 'cpu', kernels: 'reference' });

/** Runs `fn` on the reference and on each wasm variant and compares every returned array. */
async function parity(
  name: string,
  kernels: WasmKernelName[],
  fn: (dev: Device) => Promise<Float32Array[]>,
  atol = 1e-5,
  rtol = 1e-5,
): Promise<void> {
  const want = await fn(await reference());
  for (const dev of await variants()) {
    const before = kernels.map((k) => dev.cpu!.jobs.get(k) ?? 0);
    const got = await fn(dev);
    for (const [i, g] of got.entries())
      expectClose(g, want[i]!, atol, rtol, `${name} #${i} on ${dev.describe()}`);
    for (const [i, k] of kernels.entries()) {
      expect(dev.cpu!.jobs.get(k) ?? 0, `${name}: ${k} ran`).toBeGreaterThan(before[i]!);
    }
  }
}

const read = async (t: Tensor) => (await t.read()) as Float32Array;

describe('wasm row kernels match the reference', () => {
  it('softmax and logSoftmax over the last axis (odd widths, large logits)', async () => {
    for (const [rows, cols] of [
      [33, 129],
      [5, 1000],
      [700, 3],
    ] as const) {
      await parity(`softmax ${rows}x${cols}`, ['softmaxRows'], async (dev) => {
        const x = dev.tensor(randomData(rows * cols, 11, 40), [rows, cols]);
        return [await read(softmax(x, -1)), await read(logSoftmax(x, -1))];
      });
    }
  });

  it('layerNorm and rmsNorm forward and backward (weight, bias, none)', async () => {
    for (const [rows, dim] of [
      [40, 96],
      [9, 67],
    ] as const) {
      await parity(
        `norm ${rows}x${dim}`,
        ['normRows', 'normBackwardRows'],
        async (dev) => {
          const out: Float32Array[] = [];
          for (const kind of ['layer', 'rms'] as const) {
            for (const affine of [false, true]) {
              const x = dev.tensor(randomData(rows * dim, 21, 3), [rows, dim], { requiresGrad: true });
              const w = dev.tensor(randomData(dim, 22), [dim], { requiresGrad: true });
              const b = dev.tensor(randomData(dim, 23), [dim], { requiresGrad: true });
              const g = dev.tensor(randomData(rows * dim, 24), [rows, dim]);
              const opts = affine ? { weight: w, bias: kind === 'layer' ? b : null } : {};
              const y = kind === 'layer' ? layerNorm(x, [dim], opts) : rmsNorm(x, [dim], opts);
              sum(mul(y, g)).backward();
              out.push(await read(y), await read(x.grad!));
              if (affine) out.push(await read(w.grad!));
            }
          }
          return out;
        },
        2e-5,
        1e-4,
      );
    }
  });

  it('crossEntropy forward and backward (ignoreIndex, label smoothing, reduction none)', async () => {
    const [n, C] = [70, 53];
    const targets = Int32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? -100 : (i * 17) % C));
    for (const opts of [{}, { labelSmoothing: 0.1 }, { reduction: 'none' as const }]) {
      await parity(
        `crossEntropy ${JSON.stringify(opts)}`,
        ['crossEntropyRows', 'crossEntropyBackwardRows'],
        async (dev) => {
          const x = dev.tensor(randomData(n * C, 31, 5), [n, C], { requiresGrad: true });
          const t = dev.tensor(targets, [n], { dtype: 'i32' });
          const loss = nn.crossEntropy(x, t, opts);
          const scalar = loss.rank === 0 ? loss : sum(mul(loss, dev.tensor(randomData(n, 32), [n])));
          scalar.backward();
          return [await read(loss), await read(x.grad!)];
        },
      );
    }
  });

  it('gelu (exact and tanh) and its gradient', async () => {
    for (const approximate of ['none', 'tanh'] as const) {
      await parity(
        `gelu ${approximate}`,
        ['mapChunk'],
        async (dev) => {
          const x = dev.tensor(randomData(3001, 41, 6), [3001], { requiresGrad: true });
          const g = dev.tensor(randomData(3001, 42), [3001]);
          const y = gelu(x, { approximate });
          sum(mul(y, g)).backward();
          return [await read(y), await read(x.grad!)];
        },
        2e-6,
        1e-5,
      );
    }
  });

  it('element-wise engine: strided copies, broadcasting arithmetic, gradients, copyInto a slice', async () => {
    await parity('element-wise', ['mapChunk'], async (dev) => {
      const x = dev.tensor(randomData(6 * 7 * 40, 61), [6, 7, 40], { requiresGrad: true });
      const bias = dev.tensor(randomData(40, 62), [40], { requiresGrad: true });
      const col = dev.tensor(randomData(6 * 7, 63, 2), [6, 7, 1], { requiresGrad: true });
      const g = dev.tensor(randomData(6 * 7 * 40, 64), [6, 7, 40]);
      // bias broadcast over rows, a column broadcast over the last dim, a scalar, relu with a NaN
      const nanned = dev.tensor(
        Float32Array.from(randomData(600, 65), (v, i) => (i === 7 ? Number.NaN : v)),
        [600],
      );
      const y = mul(relu(div(add(x, bias), col)), 0.5);
      sum(mul(y, g)).backward();
      const permuted = x.permute([2, 0, 1]).contiguous(); // a strided copy
      const target = dev.zeros([10, 50, 40]);
      copyInto(target.slice(1, 3, 45), x.reshape([42, 40]).expand([10, 42, 40])); // a strided output
      return [
        await read(y),
        await read(x.grad!),
        await read(bias.grad!),
        await read(col.grad!),
        await read(permuted),
        await read(target),
        await read(relu(nanned)),
      ];
    });
  });

  it('element-wise engine above rank 4: jobs over the smallest outer dims, operands staged once', async () => {
    await parity(
      'element-wise rank 5-6',
      ['mapChunk'],
      async (dev) => {
        // a [3, B, H, T, D] gradient laid out as [B, T, 3, H, D] (q, k, v of one projection): rank 5
        const x = dev.tensor(randomData(3 * 5 * 2 * 7 * 8, 71), [3, 5, 2, 7, 8]);
        const merged = x.permute([1, 3, 0, 2, 4]).contiguous();
        // a strided rank-5 output, and a rank-6 broadcast add with a permuted operand
        const target = dev.zeros([5, 7, 3, 2, 8]);
        copyInto(target.permute([2, 0, 3, 1, 4]), x);
        const a = dev.tensor(randomData(2 * 3 * 4 * 5 * 6 * 8, 72), [2, 3, 4, 5, 6, 8]);
        const b = dev.tensor(randomData(3 * 5 * 8, 73), [3, 1, 5, 1, 8]);
        const sum6 = add(a.permute([0, 1, 3, 2, 4, 5]), b.permute([0, 2, 1, 3, 4]).unsqueeze(0));
        return [await read(merged), await read(target), await read(sum6)];
      },
      0,
      0,
    );
  });

  it('AdamW steps (weight decay, AMSGrad)', async () => {
    for (const amsgrad of [false, true]) {
      await parity(
        `adamw amsgrad=${amsgrad}`,
        ['adamwChunk'],
        async (dev) => {
          const p = dev.tensor(randomData(2051, 51), [2051], { requiresGrad: true });
          const opt = new optim.AdamW([p], { lr: 0.01, weightDecay: 0.1, amsgrad });
          for (let step = 0; step < 3; step++) {
            const g = dev.tensor(randomData(2051, 52 + step), [2051]);
            opt.zeroGrad();
            sum(mul(p, g)).backward();
            await opt.step();
          }
          return [await read(p)];
        },
        1e-6,
        1e-5,
      );
    }
  });
});
