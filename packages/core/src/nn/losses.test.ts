/** Losses against PyTorch (tools/fixtures/gen_nn.py), finite differences and CPU/GPU parity. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, onGpu, randomData } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import { gradcheck } from '../../test/gradcheck.js';
import { wgslSource } from '../../test/wgsl.js';
import {
  crossEntropyBackwardSpec,
  crossEntropyForwardSpec,
} from '../backend/webgpu/kernels/cross-entropy.js';
import { MultiheadError, nn, type Tensor, tidy } from '../index.js';

const { host } = loadFixture('nn.safetensors');

const { dev, cpu } = await getDevices();

const upload = (name: string, requiresGrad = false) => {
  const t = host(name);
  const x =
    t.dtype === 'I32'
      ? dev.tensor(t.data as Int32Array, t.shape)
      : dev.tensor(t.data as Float32Array, t.shape, { dtype: 'f32' });
  return requiresGrad ? x.requiresGrad_() : x;
};

/** Runs `loss(input, target)`, backward, and compares out and d/dinput with the fixture. */
async function againstFixture(name: string, loss: (x: Tensor, t: Tensor) => Tensor): Promise<void> {
  const x = upload(`${name}.input`, true);
  const t = upload(`${name}.target`);
  const out = loss(x, t);
  expect(out.shape).toEqual([]);
  out.backward();
  expectClose(await out.read(), host(`${name}.out`).data as Float32Array, 1e-5, 0, `${name} out`);
  expectClose(await x.grad!.read(), host(`${name}.grad.input`).data as Float32Array, 1e-5, 0, `${name} grad`);
  for (const v of [x, t, out]) v.dispose();
}

describe('losses match PyTorch', () => {
  const ce: [string, nn.CrossEntropyOptions][] = [
    ['cross_entropy_mean', {}],
    ['cross_entropy_ignore_index', { ignoreIndex: -100 }],
    ['cross_entropy_label_smoothing', { labelSmoothing: 0.1 }],
    ['cross_entropy_ignore_label_smoothing', { ignoreIndex: -100, labelSmoothing: 0.1 }],
    ['cross_entropy_3d', {}], // [2, 7, 5], class dim last
  ];
  for (const [name, opts] of ce) {
    it(name, () => againstFixture(name, (x, t) => nn.crossEntropy(x, t, opts)));
  }
  it('mse_loss', () => againstFixture('mse_loss', (x, t) => nn.mseLoss(x, t)));
  it('binary_cross_entropy_with_logits (logits of +-30, a soft label)', () =>
    againstFixture('binary_cross_entropy_with_logits', (x, t) => nn.binaryCrossEntropyWithLogits(x, t)));
});

describe('crossEntropy', () => {
  const name = 'cross_entropy_ignore_label_smoothing';
  it("reductions agree: 'none' rows sum to 'sum', 'mean' divides by the non-ignored rows", async () => {
    const x = upload(`${name}.input`);
    const t = upload(`${name}.target`);
    const opts = { labelSmoothing: 0.1 };
    const none = nn.crossEntropy(x, t, { ...opts, reduction: 'none' });
    expect(none.shape).toEqual([6]);
    const rows = await none.read();
    expect(rows[1]).toBe(0); // ignored
    expect(rows[4]).toBe(0);
    const total = Array.from(rows).reduce((a, b) => a + b, 0);
    const sum = nn.crossEntropy(x, t, { ...opts, reduction: 'sum' });
    expectClose(await sum.read(), [total], 1e-5, 0, 'sum');
    expectClose(await nn.crossEntropy(x, t, opts).read(), [total / 4], 1e-5, 0, 'mean');
    expectClose([total / 4], host(`${name}.out`).data as Float32Array, 1e-5, 0, 'fixture');
  });

  it('is finite for huge logits and gives NaN only when every row is ignored (as PyTorch)', async () => {
    const x = dev.tensor([1e4, -1e4, 0, -3e4, 3e4, 1], [2, 3]);
    const out = await nn.crossEntropy(x, dev.tensor(new Int32Array([0, 2]), [2])).read();
    expectClose(out, [(0 + 29999) / 2], 1e-3, 0, 'huge logits');
    // a masked class (-inf logit) is fine without smoothing, and gives inf with it (as PyTorch)
    const masked = dev.tensor([0, Number.NEGATIVE_INFINITY, 0], [1, 3]);
    const one = dev.tensor(new Int32Array([0]), [1]);
    expectClose(await nn.crossEntropy(masked, one).read(), [Math.LN2], 1e-6, 0, 'masked class');
    expect((await nn.crossEntropy(masked, one, { labelSmoothing: 0.1 }).read())[0]).toBe(
      Number.POSITIVE_INFINITY,
    );
    const allIgnored = await nn.crossEntropy(x, dev.tensor(new Int32Array([-100, -100]), [2])).read();
    expect(Number.isNaN(allIgnored[0])).toBe(true);
  });

  it('gradients: finite differences and CPU/GPU parity (mean, sum, none; ignore + smoothing; strided logits)', async () => {
    const targets = new Int32Array([3, -100, 0, 4, 1, 2]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck(
        cpu,
        dev,
        (x) =>
          nn.crossEntropy(x, x.device.tensor(targets, [2, 3]), {
            labelSmoothing: 0.2,
            reduction,
          }),
        [{ shape: [2, 3, 5], data: randomData(30, 5, 2) }],
      );
    }
    // logits as a transposed view [C, N]^T, a custom ignoreIndex that is also a valid class
    await gradcheck(
      cpu,
      dev,
      (x) => nn.crossEntropy(x.mT, x.device.tensor(new Int32Array([1, 3, 0, 3]), [4]), { ignoreIndex: 3 }),
      [{ shape: [5, 4] }],
    );
  });

  it('out-of-range targets raise INDEX_OUT_OF_RANGE naming the target', async () => {
    const x = dev.tensor(randomData(15, 2), [3, 5]);
    const t = dev.tensor(new Int32Array([0, 7, 1]), [3]);
    if (onGpu) {
      // a kernel cannot throw: the error arrives with the next read, then the flag is cleared
      const loss = nn.crossEntropy(x, t);
      await expect(loss.read()).rejects.toThrowError(
        /crossEntropy: index 7 at position 1 is out of range \[0, 5\)/,
      );
      expect((await nn.crossEntropy(x, dev.tensor(new Int32Array([0, 4, 1]), [3])).read()).length).toBe(1);
    } else {
      expect(() => nn.crossEntropy(x, t)).toThrowError(
        /crossEntropy: target 7 at position 1 of targets \[3\] is out of range \[0, 5\)/,
      );
    }
    const neg = dev.tensor(new Int32Array([0, -1, 1]), [3]);
    await expect((async () => nn.crossEntropy(x, neg).read())()).rejects.toThrowError(MultiheadError);
  });

  it('keeps only the gradient after backward (the graph frees the saved lse and count)', async () => {
    const x = dev.tensor(randomData(12, 6), [4, 3]).requiresGrad_();
    const t = dev.tensor(new Int32Array([0, 2, -100, 1]), [4]);
    const before = dev.memory().liveTensors;
    const loss = tidy(() => nn.crossEntropy(x, t, { labelSmoothing: 0.1 }));
    loss.backward();
    loss.dispose();
    expect(dev.memory().liveTensors).toBe(before + 1); // x.grad
    x.dispose();
    t.dispose();
  });

  it('generated WGSL (snapshot)', () => {
    expect(wgslSource(crossEntropyForwardSpec())).toMatchSnapshot();
    expect(wgslSource(crossEntropyBackwardSpec())).toMatchSnapshot();
  });

  it('refuses wrong dtypes, shapes and options with clear errors', () => {
    const x = dev.tensor(randomData(6, 1), [2, 3]);
    const t = dev.tensor(new Int32Array([0, 1]), [2]);
    expect(() => nn.crossEntropy(x, dev.tensor([0, 1], [2]))).toThrowError(
      /targets \[2\] have dtype f32; expected i32 class indices/,
    );
    expect(() => nn.crossEntropy(x, dev.tensor(new Int32Array([0, 1, 2]), [3]))).toThrowError(
      /targets \[3\] must have the shape of logits \[2, 3\] without the class dim: \[2\]/,
    );
    expect(() => nn.crossEntropy(dev.tensor(new Int32Array(6), [2, 3]), t)).toThrowError(
      /logits \[2, 3\] has dtype i32; expected f32/,
    );
    expect(() => nn.crossEntropy(x, t, { labelSmoothing: 1.5 })).toThrowError(/labelSmoothing 1.5/);
    expect(() => nn.crossEntropy(x, t, { reduction: 'avg' as never })).toThrowError(
      /reduction is "avg"; expected 'mean', 'sum' or 'none'/,
    );
  });
});

describe('mseLoss and binaryCrossEntropyWithLogits', () => {
  it('gradients: finite differences and CPU/GPU parity', async () => {
    const target = randomData(6, 9);
    await gradcheck(cpu, dev, (x) => nn.mseLoss(x, x.device.tensor(target, [2, 3])), [{ shape: [2, 3] }]);
    await gradcheck(cpu, dev, (x, t) => nn.mseLoss(x, t, { reduction: 'none' }), [
      { shape: [2, 3] },
      { shape: [2, 3] },
    ]);
    const probs = Float32Array.from(randomData(6, 4), (v) => (v + 1) / 2);
    await gradcheck(
      cpu,
      dev,
      (x) =>
        nn.binaryCrossEntropyWithLogits(x, x.device.tensor(probs, [2, 3]), {
          reduction: 'sum',
          posWeight: x.device.tensor([0.5, 2, 3], [3]),
        }),
      [{ shape: [2, 3], data: randomData(6, 3, 3) }],
    );
  });

  it('bce with posWeight as a number equals the formula; huge logits stay finite', async () => {
    const x = dev.tensor([100, -100, 2], [3]);
    const t = dev.tensor([0, 1, 1], [3]);
    const out = await nn.binaryCrossEntropyWithLogits(x, t, { reduction: 'none', posWeight: 3 }).read();
    const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    expectClose(out, [100, 3 * 100, 3 * softplus(-2)], 1e-5, 1e-6, 'bce');
  });

  it('refuses mismatched shapes and dtypes', () => {
    const a = dev.tensor(randomData(6, 1), [2, 3]);
    expect(() => nn.mseLoss(a, dev.tensor(randomData(3, 1), [3]))).toThrowError(
      /mseLoss: input \[2, 3\] and target \[3\] must have the same shape/,
    );
    expect(() => nn.binaryCrossEntropyWithLogits(a, dev.tensor(new Int32Array(6), [2, 3]))).toThrowError(
      /target \[2, 3\] has dtype i32; expected f32/,
    );
    expect(() =>
      nn.binaryCrossEntropyWithLogits(a, a, { posWeight: dev.tensor([1, 2], [2, 1, 1]) }),
    ).toThrowError(/posWeight \[2, 1, 1\] must broadcast to logits \[2, 3\]/);
  });
});
