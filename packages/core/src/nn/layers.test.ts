/** nn layers: Linear, Embedding, LayerNorm, RMSNorm, Dropout, FeedForward (gradchecks, fixtures, semantics). */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import { gradcheck } from '../../test/gradcheck.js';
import { mul, nn, sum, type Tensor, tidy } from '../index.js';

const { cases, host } = loadFixture<{
  name: string;
  kind: string;
  options: { normalized_shape: number[]; eps: number };
  state_dict: string[];
}>('nn.safetensors');

const { dev, cpu } = await getDevices();

const read = async (t: Tensor) => Array.from(await t.read());

describe('Linear', () => {
  it('has PyTorch shapes and names, and kaiming-uniform init within ±1/sqrt(in)', async () => {
    const lin = new nn.Linear(dev, 5, 3, { seed: 1 });
    expect(Object.keys(lin.stateDict())).toEqual(['weight', 'bias']);
    expect(lin.weight.shape).toEqual([3, 5]);
    expect(lin.bias!.shape).toEqual([3]);
    expect(lin.numParameters()).toBe(18);
    const w = await read(lin.weight);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(5));
    expect(new Set(w).size).toBe(15);
    const again = new nn.Linear(dev, 5, 3, { seed: 1 });
    expect(await read(again.weight)).toEqual(w);
    const other = new nn.Linear(dev, 5, 3, { seed: 2 });
    expect(await read(other.weight)).not.toEqual(w);
    const noBias = new nn.Linear(dev, 5, 3, { bias: false });
    expect(Object.keys(noBias.stateDict())).toEqual(['weight']);
    for (const m of [lin, again, other, noBias]) m.dispose();
  });

  it('gradcheck of linear(x, weight, bias) over a 3-D input', async () => {
    await gradcheck(cpu, dev, (x, w, b) => nn.linear(x, w, b), [
      { shape: [2, 3, 4] },
      { shape: [5, 4] },
      { shape: [5] },
    ]);
  });

  it('forward fills weight.grad = gyᵀ·x and bias.grad = Σ gy', async () => {
    const lin = new nn.Linear(dev, 2, 2, { seed: 3 });
    lin.loadStateDict({
      weight: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      bias: { dtype: 'F32', shape: [2], data: Float32Array.from([0.5, -0.5]) },
    });
    const x = dev.tensor([1, 0, 2, 1, 0, 3], [3, 2]);
    const y = lin.forward(x);
    expect(await read(y)).toEqual([1.5, 2.5, 4.5, 9.5, 6.5, 11.5]);
    const loss = sum(y);
    loss.backward();
    expect(await read(lin.weight.grad!)).toEqual([3, 4, 3, 4]);
    expect(await read(lin.bias!.grad!)).toEqual([3, 3]);
    for (const t of [x, y, loss]) t.dispose();
    lin.dispose();
  });

  it('names the shapes when x does not fit', () => {
    const lin = new nn.Linear(dev, 4, 2);
    const x = dev.zeros([3, 5]);
    expect(() => lin.forward(x)).toThrowError(
      /x \[3, 5\] does not end in weight's in-features \(weight \[2, 4\]/,
    );
    expect(() => new nn.Linear(dev, 0, 2)).toThrowError(/inFeatures must be a positive integer, got 0/);
    x.dispose();
    lin.dispose();
  });
});

describe('Embedding', () => {
  it('looks rows up; paddingIdx starts at zero and gets no gradient', async () => {
    const emb = new nn.Embedding(dev, 5, 3, { paddingIdx: -1, seed: 4 });
    expect(emb.paddingIdx).toBe(4);
    const w = await read(emb.weight);
    expect(w.slice(12)).toEqual([0, 0, 0]);
    const ids = dev.tensor(new Int32Array([1, 4, 1, 0]), [2, 2]);
    const y = emb.forward(ids);
    expect(y.shape).toEqual([2, 2, 3]);
    expect((await read(y)).slice(0, 3)).toEqual(w.slice(3, 6));
    const loss = sum(y);
    loss.backward();
    // row 1 used twice, row 0 once, row 4 (padding) gets nothing, rows 2-3 unused
    expect(await read(emb.weight.grad!)).toEqual([1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (const t of [ids, y, loss]) t.dispose();
    emb.dispose();
  });

  it('gradcheck of embedding(weight, ids) with repeated ids', async () => {
    // (with paddingIdx among the ids the check cannot apply: the forward reads that row, while its
    // gradient is zero by definition, as the test above shows)
    await gradcheck(
      cpu,
      dev,
      (w) => {
        const ids = w.device.tensor(new Int32Array([2, 0, 2, 1]), [2, 2]);
        const y = nn.embedding(w, ids, { paddingIdx: 3 });
        ids.dispose();
        return y;
      },
      [{ shape: [4, 3] }],
    );
  });
});

describe('LayerNorm and RMSNorm match PyTorch (nn.safetensors)', () => {
  for (const c of cases.filter((x) => x.kind === 'layer_norm' || x.kind === 'rms_norm')) {
    it(`${c.name}: out, d/dx and d/dweight (and d/dbias)`, async () => {
      const m =
        c.kind === 'layer_norm'
          ? new nn.LayerNorm(dev, c.options.normalized_shape, { eps: c.options.eps })
          : new nn.RMSNorm(dev, c.options.normalized_shape, { eps: c.options.eps });
      expect(Object.keys(m.stateDict())).toEqual(c.state_dict);
      m.loadStateDict(Object.fromEntries(c.state_dict.map((k) => [k, host(`${c.name}.sd.${k}`)])));
      const hx = host(`${c.name}.x`);
      const x = dev.tensor(hx.data as Float32Array, hx.shape).requiresGrad_();
      const gout = dev.tensor(host(`${c.name}.gout`).data as Float32Array, hx.shape);
      const out = m.forward(x);
      expectClose(await out.read(), host(`${c.name}.out`).data as Float32Array, 2e-5, 2e-5, 'out');
      const loss = tidy(() => sum(mul(out, gout)));
      loss.backward();
      expectClose(await x.grad!.read(), host(`${c.name}.grad.x`).data as Float32Array, 1e-4, 1e-4, 'd/dx');
      const sd = m.stateDict();
      for (const k of c.state_dict) {
        const want = host(`${c.name}.grad.sd.${k}`).data as Float32Array;
        expectClose(await sd[k]!.grad!.read(), want, 1e-4, 1e-4, `d/d${k}`);
      }
      for (const t of [x, gout, out, loss]) t.dispose();
      m.dispose();
    });
  }

  it('options: no affine, no bias, PyTorch default eps', () => {
    expect(Object.keys(new nn.LayerNorm(dev, 4, { elementwiseAffine: false }).stateDict())).toEqual([]);
    expect(Object.keys(new nn.LayerNorm(dev, [2, 4], { bias: false }).stateDict())).toEqual(['weight']);
    expect(new nn.LayerNorm(dev, 4).eps).toBe(1e-5);
    expect(new nn.RMSNorm(dev, 4).eps).toBe(2 ** -23); // torch.finfo(torch.float32).eps
    expect(() => new nn.LayerNorm(dev, [])).toThrowError(/normalizedShape must not be empty/);
  });

  it('gradcheck of LayerNorm and RMSNorm modules in x (parameters via the fixtures above)', async () => {
    await gradcheck(
      cpu,
      dev,
      (x) => {
        const m = new nn.LayerNorm(x.device, [2, 3]);
        const y = m.forward(x);
        m.dispose();
        return y;
      },
      [{ shape: [2, 2, 3] }],
    );
    await gradcheck(
      cpu,
      dev,
      (x) => {
        const m = new nn.RMSNorm(x.device, 4, { eps: 1e-6 });
        const y = m.forward(x);
        m.dispose();
        return y;
      },
      [{ shape: [3, 4] }],
    );
  });
});

describe('Dropout', () => {
  it('drops about p, scales survivors by 1/(1-p), and is the identity in eval()', async () => {
    const drop = new nn.Dropout(dev, 0.25, { seed: 11 });
    const x = dev.ones([4000]);
    const y = await read(drop.forward(x));
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / 4000).toBeGreaterThan(0.2);
    expect(zeros / 4000).toBeLessThan(0.3);
    for (const v of y) if (v !== 0) expect(v).toBeCloseTo(1 / 0.75, 6);
    const y2 = await read(drop.forward(x));
    expect(y2).not.toEqual(y); // a fresh mask each call
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    drop.train();
    expect(drop.training).toBe(true);
    expect(await read(nn.dropout(x, 1))).toEqual(new Array(4000).fill(0));
    expect(nn.dropout(x, 0.5, { training: false })).toBe(x);
    expect(() => nn.dropout(x, 1.5)).toThrowError(/p must be in \[0, 1\], got 1.5/);
    x.dispose();
  });

  it('a seed gives the same mask on every backend; gradcheck through the fixed mask', async () => {
    const a = nn.dropout(cpu.ones([64]), 0.5, { seed: 5 });
    const b = nn.dropout(dev.ones([64]), 0.5, { seed: 5 });
    expect(await read(b)).toEqual(await read(a));
    await gradcheck(cpu, dev, (x) => nn.dropout(x, 0.4, { seed: 9 }), [{ shape: [3, 5] }]);
  });
});

describe('FeedForward', () => {
  it('names: linear1 / linear2, or Llama w1 / w2 / w3 for SwiGLU', () => {
    const ff = new nn.FeedForward(dev, 4, 6, { activation: 'gelu' });
    expect(Object.keys(ff.stateDict())).toEqual([
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
    ]);
    const glu = new nn.FeedForward(dev, 4, 6, { activation: 'swiglu', bias: false });
    expect(Object.keys(glu.stateDict())).toEqual(['w1.weight', 'w2.weight', 'w3.weight']);
    expect(glu.numParameters()).toBe(3 * 24);
    ff.dispose();
    glu.dispose();
  });

  it('SwiGLU computes w2(silu(w1 x) · w3 x)', async () => {
    const ff = new nn.FeedForward(dev, 1, 1, { activation: 'swiglu', bias: false });
    const w = (v: number) => ({ dtype: 'F32' as const, shape: [1, 1], data: Float32Array.from([v]) });
    ff.loadStateDict({ 'w1.weight': w(2), 'w2.weight': w(3), 'w3.weight': w(-1) });
    const x = dev.tensor([0.5], [1, 1]);
    const silu = (v: number) => v / (1 + Math.exp(-v));
    expect((await read(ff.forward(x)))[0]).toBeCloseTo(3 * silu(1) * -0.5, 6);
    x.dispose();
    ff.dispose();
  });

  for (const activation of ['gelu_tanh', 'swiglu'] as const) {
    it(`gradcheck (${activation}) in x`, async () => {
      await gradcheck(
        cpu,
        dev,
        (x) => {
          const ff = new nn.FeedForward(x.device, 4, 6, { activation, seed: 2 });
          const y = ff.forward(x);
          ff.dispose();
          return y;
        },
        [{ shape: [2, 3, 4] }],
      );
    });
  }

  it('takes any differentiable activation function and refuses unknown names', async () => {
    const ff = new nn.FeedForward(dev, 3, 3, { activation: (x) => mul(x, x) });
    const x = dev.tensor(randomData(6, 3), [2, 3]);
    expect(ff.forward(x).shape).toEqual([2, 3]);
    expect(() => new nn.FeedForward(dev, 3, 3, { activation: 'elu' as 'relu' })).toThrowError(
      /activation "elu"/,
    );
    x.dispose();
    ff.dispose();
  });
});
