/** nn.Conv2d / nn.conv2d against torch's F.conv2d (tools/fixtures/gen_conv.py): forward and backward. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices } from '../../test/device.js';
import { expectError } from '../../test/errors.js';
import { loadFixture } from '../../test/fixtures.js';
import { mul, nn, sum, tidy } from '../index.js';

interface ConvCase {
  name: string;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  bias: boolean;
}

const { cases, host } = loadFixture<ConvCase>('conv.safetensors');
const { dev } = await getDevices();

const upload = (name: string) => {
  const t = host(name);
  return dev.tensor(t.data as Float32Array, t.shape, { requiresGrad: true });
};
const values = (name: string) => host(name).data as Float32Array;

// f32 products of at most C·kh·kw = 50 terms against float64 references
const ATOL = 1e-5;

describe('conv2d matches torch F.conv2d', () => {
  it('covers strides, padding, dilation, 1 x 1, patchify and non-square kernels, with and without bias', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'k3_s1_p1',
      'k3_s2_p1_odd',
      'k3_s2_p1_even',
      'k1_pointwise',
      'patchify_k4_s4',
      'k2x3_s1x2_p0x1',
      'k3_dilation2_p2',
      'k5_s3_no_bias',
    ]);
  });

  for (const c of cases) {
    it(`${c.name}: out, and the gradients of x, weight and bias`, async () => {
      const x = upload(`${c.name}.x`);
      const weight = upload(`${c.name}.weight`);
      const bias = c.bias ? upload(`${c.name}.bias`) : null;
      const out = nn.conv2d(x, weight, bias, c);
      expect(out.shape).toEqual(host(`${c.name}.out`).shape);
      expectClose(await out.read(), values(`${c.name}.out`), ATOL, 0, `${c.name} out`);
      const gout = dev.tensor(values(`${c.name}.gout`), out.shape);
      const loss = tidy(() => sum(mul(out, gout)));
      loss.backward();
      expectClose(await x.grad!.read(), values(`${c.name}.grad.x`), ATOL, 0, `${c.name} grad x`);
      expectClose(await weight.grad!.read(), values(`${c.name}.grad.weight`), ATOL, 0, `${c.name} grad w`);
      if (bias)
        expectClose(await bias.grad!.read(), values(`${c.name}.grad.bias`), ATOL, 0, `${c.name} grad b`);
      for (const t of [x, weight, bias, out, gout, loss]) t?.dispose();
    });
  }
});

describe('nn.Conv2d', () => {
  it("has PyTorch's parameter names and shapes, and its kaiming-uniform bound 1/sqrt(C·kh·kw)", async () => {
    const conv = new nn.Conv2d(dev, 3, 4, [3, 5], { stride: 2, padding: [1, 2], seed: 7 });
    expect(Object.fromEntries(Object.entries(conv.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      weight: [4, 3, 3, 5],
      bias: [4],
    });
    const bound = 1 / Math.sqrt(3 * 3 * 5);
    for (const t of [conv.weight, conv.bias!]) {
      const v = Array.from(await t.read());
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(new Set(v).size).toBe(v.length);
    }
    expect(new nn.Conv2d(dev, 3, 4, 3, { bias: false, seed: 7 }).bias).toBeNull();
    conv.dispose();
  });

  it('loads a fixture state dict and gives its output', async () => {
    const c = cases.find((k) => k.name === 'k3_s2_p1_odd')!;
    const w = host(`${c.name}.weight`);
    const conv = new nn.Conv2d(dev, w.shape[1]!, w.shape[0]!, 3, { stride: 2, padding: 1 });
    conv.loadStateDict({ weight: w, bias: host(`${c.name}.bias`) });
    const x = dev.tensor(values(`${c.name}.x`), host(`${c.name}.x`).shape);
    const out = conv.forward(x);
    expectClose(await out.read(), values(`${c.name}.out`), ATOL, 0, 'module out');
    for (const t of [x, out]) t.dispose();
    conv.dispose();
  });

  it('names the argument in its errors', () => {
    const x = dev.zeros([1, 2, 4, 4]);
    expectError(
      () => new nn.Conv2d(dev, 0, 2, 3),
      'INVALID_ARGUMENT',
      /inChannels must be a positive integer, got 0/,
    );
    expectError(
      () => new nn.Conv2d(dev, 2, 2, 3, { stride: 0 }),
      'INVALID_ARGUMENT',
      /stride must be an integer >= 1/,
    );
    expectError(() => new nn.Conv2d(dev, 2, 2, 3, { padding: -1 }), 'INVALID_ARGUMENT', /padding/);
    const conv = new nn.Conv2d(dev, 3, 2, 3);
    expectError(() => conv.forward(x), 'SHAPE_MISMATCH', /x \[1, 2, 4, 4\] must be \[B, C, H, W\].*same C/);
    const big = new nn.Conv2d(dev, 2, 2, 5);
    expectError(() => big.forward(x), 'SHAPE_MISMATCH', /smaller than the dilated kernel 5 x 5/);
    for (const m of [conv, big]) m.dispose();
    x.dispose();
  });
});
