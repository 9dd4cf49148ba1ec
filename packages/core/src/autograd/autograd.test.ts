/** Autograd: the tape's semantics and lifetimes, and every differentiable op's gradient. */
import { describe, expect, it } from 'vitest';
import { getDevices } from '../../test/device.js';
import { type GradInput, gradcheck } from '../../test/gradcheck.js';
import {
  add,
  attention,
  cast,
  concat,
  copy,
  div,
  embedding,
  enableGrad,
  indexSelect,
  isGradEnabled,
  kernelTiming,
  layerNorm,
  linearAttention,
  logSoftmax,
  logsumexp,
  type MapArgs,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  noGrad,
  pad,
  pow,
  rmsNorm,
  softmax,
  sub,
  sum,
  type Tensor,
  tidy,
  UNARY,
  type UnaryName,
  unary,
  where,
} from '../index.js';

const { dev, cpu } = await getDevices();

/** Values at least `gap` away from every kink and from each other's neighbours (for max, relu, abs). */
function separated(n: number, seed: number, gap = 0.1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (i + 1) * gap * (i % 2 ? 1 : -1);
  // a fixed shuffle so neighbours are not ordered
  for (let i = n - 1; i > 0; i--) {
    const j = (i * 7 + seed) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const positive = (n: number, seed = 3) =>
  Float32Array.from({ length: n }, (_, i) => 0.5 + ((i * 37 + seed) % 11) / 10);

const check = (fn: (...xs: Tensor[]) => Tensor, inputs: GradInput[], opts = {}) =>
  gradcheck(cpu, dev, fn, inputs, opts);

describe('autograd engine', () => {
  it('fills .grad of leaves and accumulates across backward calls', async () => {
    const w = dev.tensor([1, 2, 3], [3]).requiresGrad_();
    const x = dev.tensor([4, 5, 6], [3]);
    for (let step = 0; step < 2; step++) {
      const loss = tidy(() => sum(mul(w, x)));
      loss.backward();
      loss.dispose();
    }
    expect(Array.from(await w.grad!.read())).toEqual([8, 10, 12]);
    expect(x.grad).toBeNull();
    expect(x.requiresGrad).toBe(false);
    w.dispose();
    x.dispose();
  });

  it('records nothing under noGrad, and enableGrad turns it back on', () => {
    const w = dev.tensor([1, 2], [2]).requiresGrad_();
    const y = noGrad(() => mul(w, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = noGrad(() => enableGrad(() => mul(w, 2)));
    expect(z.gradFn?.name).toBe('mul');
    expect(isGradEnabled()).toBe(true);
    expect(() => y.backward()).toThrowError(/does not require grad/);
    for (const t of [w, y, z]) t.dispose();
  });

  it('detach cuts the graph and shares storage', async () => {
    const w = dev.tensor([1, 2], [2]).requiresGrad_();
    const y = mul(w, 3);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(Array.from(await d.read())).toEqual([3, 6]);
    const loss = sum(add(mul(y, d), 0));
    loss.backward();
    expect(Array.from(await w.grad!.read())).toEqual([9, 18]); // d/dw (3w · const 3w) = 3 · 3w
    for (const t of [w, y, d, loss]) t.dispose();
  });

  it('refuses a second backward unless retainGraph, and implicit grads of non-scalars', async () => {
    const w = dev.tensor([1, 2], [2]).requiresGrad_();
    const y = mul(w, w);
    expect(() => y.backward()).toThrowError(/only for one-element tensors; got \[2\]/);
    const loss = sum(y);
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(Array.from(await w.grad!.read())).toEqual([4, 8]);
    expect(() => loss.backward()).toThrowError(/freed by an earlier backward.*retainGraph/);
    for (const t of [w, y, loss]) t.dispose();
  });

  it('refuses requiresGrad on integer tensors and on computed tensors', () => {
    const i = dev.tensor(new Int32Array([1, 2]), [2]);
    expect(() => i.requiresGrad_()).toThrowError(/only float tensors can require grad, got i32/);
    const w = dev.tensor([1, 2], [2]).requiresGrad_();
    const y = mul(w, 2);
    expect(() => {
      y.requiresGrad = false;
    }).toThrowError(/is computed \(mul\); use detach\(\)/);
    for (const t of [i, w, y]) t.dispose();
  });

  it('works when the forward tensors were disposed by tidy, and frees what it saved', async () => {
    const w = dev.tensor([0.5, -1, 2], [3]).requiresGrad_();
    const before = dev.memory().liveTensors;
    const loss = tidy(() => sum(mul(pow(w, 3), softmax(w))));
    // the intermediates are gone from the user's side; the graph keeps their storage
    expect(dev.memory().liveTensors).toBeGreaterThan(before + 2); // the graph holds saved tensors
    loss.backward();
    // backward freed every saved tensor at once: only loss and w.grad are new
    expect(dev.memory().liveTensors).toBe(before + 2);
    loss.dispose();
    expect(dev.memory().liveTensors).toBe(before + 1); // w.grad
    expect(w.grad!.shape).toEqual([3]);
    w.dispose();
    expect(dev.memory().liveTensors).toBe(before - 1);
  });

  it('frees a graph nobody runs backward through when its output is disposed', () => {
    const w = dev.tensor([1, 2, 3], [3]).requiresGrad_();
    const before = dev.memory();
    tidy(() => sum(matmul(w.reshape([1, 3]), w.reshape([3, 1])))).dispose();
    expect(dev.memory().liveTensors).toBe(before.liveTensors);
    expect(dev.memory().liveBytes).toBe(before.liveBytes);
    w.dispose();
  });

  it('leaf grads own their storage (safe to update in place)', async () => {
    const a = dev.tensor([1, 2], [2]).requiresGrad_();
    const b = dev.tensor([3, 4], [2]).requiresGrad_();
    const loss = sum(add(a, b));
    loss.backward();
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    expect(a.grad!.storage.refs).toBe(1);
    for (const t of [a, b, loss]) t.dispose();
  });

  it('gives the same .grad through a diamond (a tensor used twice)', async () => {
    const x = dev.tensor([1, -2, 3], [3]).requiresGrad_();
    const y = mul(x, x);
    const loss = sum(add(mul(y, 2), y)); // 3x²
    loss.backward();
    expect(Array.from(await x.grad!.read())).toEqual([6, -12, 18]);
    for (const t of [x, y, loss]) t.dispose();
  });
});

describe('gradients of views', () => {
  const views: [string, (x: Tensor) => Tensor][] = [
    ['reshape', (x) => x.reshape([4, 3])],
    ['permute', (x) => x.permute([2, 0, 1])],
    ['transpose + contiguous', (x) => x.transpose(0, 2).contiguous()],
    ['slice with step', (x) => x.slice(2, 0, 3, 2)],
    ['expand', (x) => x.slice(0, 0, 1).expand([3, 2, 3])],
    ['unsqueeze / squeeze', (x) => x.unsqueeze(1).squeeze(1).unsqueeze(0)],
    ['mT of a permuted view, reshaped', (x) => x.permute([1, 0, 2]).mT.reshape([-1])],
  ];
  for (const [name, fn] of views) {
    it(name, () => check((x) => mul(fn(x), 1), [{ shape: [2, 2, 3] }]));
  }

  /** q, k, v of one packed projection: slices of a permuted view ([B, T, 3, H] -> [3, B, H, T]). */
  const qkv = (x: Tensor) => {
    const p = x.reshape([2, 4, 3, 2]).permute([2, 0, 3, 1]);
    return [0, 1, 2].map((i) => p.slice(0, i, i + 1).squeeze(0));
  };
  it('disjoint slices of a permuted view (q, k, v), and overlapping slices', () =>
    check(
      (x, w) => {
        const [q, k, v] = qkv(x) as [Tensor, Tensor, Tensor];
        const overlap = add(x.slice(2, 0, 4), x.slice(2, 2, 6)); // elements 2 and 3 get two gradients
        return add(add(add(mul(q, w!), mul(k, 2)), sum(mul(v, v))), sum(overlap));
      },
      [{ shape: [2, 4, 6] }, { shape: [2, 2, 4] }],
    ));

  it('permutations and disjoint slices cost no adds and no zero-filled copies in backward', () => {
    const x = dev.tensor(
      new Float32Array(48).map((_, i) => i / 48),
      [2, 4, 6],
      { requiresGrad: true },
    );
    const [q, k, v] = qkv(x) as [Tensor, Tensor, Tensor];
    const loss = tidy(() => sum(add(add(mul(q, 1), mul(k, 2)), mul(v, 3))));
    const ops: string[] = [];
    kernelTiming.hook = (kernel, args) => {
      if (kernel === 'Map') ops.push((args as MapArgs).op.name);
    };
    try {
      loss.backward();
    } finally {
      kernelTiming.hook = null;
    }
    // three slice gradients copied into one buffer, then one copy for the reshape of its permutation
    expect(ops.filter((o) => o === 'add')).toEqual([]);
    expect(ops.filter((o) => o === 'copy')).toHaveLength(4);
    for (const t of [x, q, k, v, loss]) t.dispose();
  });
});

describe('gradients of elementwise ops', () => {
  const domains: Partial<Record<UnaryName, (n: number) => Float32Array>> = {
    log: positive,
    sqrt: positive,
    rsqrt: positive,
    reciprocal: positive,
    relu: (n) => separated(n, 1),
    abs: (n) => separated(n, 2),
    floor: (n) => separated(n, 3, 0.25).map((v) => v + 0.37),
    ceil: (n) => separated(n, 3, 0.25).map((v) => v + 0.37),
  };
  for (const name of Object.keys(UNARY) as UnaryName[]) {
    if (!('dx' in UNARY[name])) continue;
    it(name, () =>
      check(
        (x) => unary(name, x),
        [domains[name] ? { shape: [2, 3], data: domains[name](6) } : { shape: [2, 3] }],
      ),
    );
  }

  it('add / sub with broadcasting and numbers', () =>
    check((a, b) => sub(add(a, b), add(2, mul(a, 0.5))), [{ shape: [2, 1, 3] }, { shape: [4, 1] }]));
  it('mul / div with broadcasting', () =>
    check(
      (a, b) => div(mul(a, b), b.expand([2, 3])),
      [{ shape: [2, 3] }, { shape: [3], data: positive(3) }],
    ));
  it('pow of positive bases, tensor exponent', () =>
    check((a, b) => pow(a, b), [{ shape: [2, 3], data: positive(6) }, { shape: [3] }]));
  it('pow with a number exponent', () => check((a) => pow(a, 3), [{ shape: [5] }]));
  it('maximum / minimum', () =>
    check(
      (a, b) => add(maximum(a, b), minimum(a, b)),
      [
        { shape: [6], data: separated(6, 1) },
        { shape: [6], data: separated(6, 4).map((v) => v + 0.05) },
      ],
    ));
  it('where with broadcasting', () => {
    const cond = () => cpu.tensor([true, false, true], [3]);
    const condDev = () => dev.tensor([true, false, true], [3]);
    return check(
      (a, b) => {
        const c = a.device === cpu ? cond() : condDev();
        const y = where(c, a, b);
        c.dispose();
        return y;
      },
      [{ shape: [2, 3] }, { shape: [2, 1] }],
    );
  });
});

describe('gradients of reductions, softmax and norms', () => {
  it('sum over everything and over axes with keepdim', () =>
    check((x) => add(sum(x, [0, 2], { keepdim: true }), sum(x)), [{ shape: [2, 3, 2] }]));
  it('mean', () => check((x) => mean(x, 1), [{ shape: [2, 3, 2] }]));
  it('max / min over an axis', () =>
    check((x) => add(max(x, 1), min(x, 1)), [{ shape: [2, 4], data: separated(8, 5) }]));
  it('logsumexp', () => check((x) => logsumexp(x, -1), [{ shape: [3, 4] }]));
  it('softmax along the last and the first axis', () =>
    check((x) => add(softmax(x), softmax(x, 0)), [{ shape: [3, 4] }]));
  it('logSoftmax', () => check((x) => logSoftmax(x, 1), [{ shape: [2, 5] }]));
  it('layerNorm with weight and bias', () =>
    check(
      (x, w, b) => layerNorm(x, [4], { weight: w, bias: b }),
      [{ shape: [3, 4] }, { shape: [4] }, { shape: [4] }],
    ));
  it('layerNorm over two dims, no affine', () => check((x) => layerNorm(x, [2, 3]), [{ shape: [2, 2, 3] }]));
  it('rmsNorm with weight', () =>
    check((x, w) => rmsNorm(x, [4], { weight: w }), [{ shape: [3, 4] }, { shape: [4] }]));
});

describe('gradients of matmul, gather and layout', () => {
  it('matmul', () => check(matmul, [{ shape: [3, 4] }, { shape: [4, 2] }]));
  it('batched matmul with a broadcast operand', () =>
    check(matmul, [{ shape: [2, 3, 4] }, { shape: [4, 5] }]));
  it('matmul of vectors and matrices', () =>
    check(
      (a, b, c) => add(matmul(a, b), sum(matmul(c, a))),
      [{ shape: [4] }, { shape: [4, 3] }, { shape: [2, 4] }],
    ));
  it('indexSelect with repeated indices', () =>
    check(
      (x) => {
        const idx = x.device.tensor(new Int32Array([2, 0, 2, 2]), [4]);
        const y = indexSelect(x, 1, idx);
        idx.dispose();
        return y;
      },
      [{ shape: [2, 3, 2] }],
    ));
  it('embedding with repeated ids', () =>
    check(
      (w) => {
        const ids = w.device.tensor(new Int32Array([1, 3, 1, 0, 1, 3]), [2, 3]);
        const y = embedding(w, ids);
        ids.dispose();
        return y;
      },
      [{ shape: [4, 3] }],
    ));
  it('concat', () => check((a, b) => concat([a, b], 1), [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }]));
  it('cast between floats and copy', () => check((x) => copy(cast(x.mT, 'f32')), [{ shape: [2, 3] }]));
  it('pad and crop', () => check((x) => pad(x, [1, -1, 2, 0], 5), [{ shape: [3, 4] }]));
});

describe('gradients of attention', () => {
  it('attention with causal mask and a broadcast bias', () =>
    check(
      (q, k, v, bias) => attention(q, k, v, { causal: true, bias }),
      [{ shape: [1, 2, 3, 4] }, { shape: [1, 1, 3, 4] }, { shape: [1, 1, 3, 2] }, { shape: [1, 2, 1, 3] }],
    ));
  it('linear attention, causal', () =>
    check(
      (q, k, v) => linearAttention(q, k, v, { featureMap: 'elu+1', causal: true }),
      [{ shape: [1, 1, 3, 2] }, { shape: [1, 1, 3, 2] }, { shape: [1, 1, 3, 2] }],
    ));
});
