/** Optimizers, clipping and schedules against PyTorch (tools/fixtures/gen_nn.py) and by-hand references. */
import { describe, expect, it } from 'vitest';
import { expectClose, getDevices, randomData } from '../../test/device.js';
import { loadFixture } from '../../test/fixtures.js';
import { wgslSource } from '../../test/wgsl.js';
import { adamwSpec, scaleSpec, sgdSpec } from '../backend/webgpu/kernels/optim.js';
import { add, copyInto, noGrad, optim, type Tensor, tidy } from '../index.js';

const fixture = loadFixture('nn.safetensors');
const host = (name: string) => fixture.host(name).data as Float32Array;
const shapeOf = (name: string) => fixture.host(name).shape;

const { dev } = await getDevices();

const param = (name: string) => dev.tensor(host(name), shapeOf(name)).requiresGrad_();

/** Runs 3 steps with the fixture's gradients and compares the parameters after each. */
async function againstFixture(name: string, make: (ps: Tensor[]) => optim.Optimizer<{ lr: number }>) {
  const ps = ['p0', 'p1'].map((k) => param(`${name}.init.${k}`));
  const storages = ps.map((p) => p.storage);
  const opt = make(ps);
  for (let step = 1; step <= 3; step++) {
    ps.forEach((p, i) => {
      p.grad = dev.tensor(host(`${name}.step${step}.grad.p${i}`), p.shape);
    });
    tidy(() => opt.step()); // state must outlive the scope a step runs in
    opt.zeroGrad();
    for (const [i, p] of ps.entries()) {
      expectClose(
        await p.read(),
        host(`${name}.step${step}.p${i}`),
        1e-7,
        1e-6,
        `${name} step ${step} p${i}`,
      );
    }
  }
  // updated in place: the same tensors over the same storage
  ps.forEach((p, i) => {
    expect(p.storage).toBe(storages[i]);
    expect(p.grad).toBeNull();
  });
  opt.dispose();
  for (const p of ps) p.dispose();
}

describe('optimizers match torch.optim', () => {
  it('SGD (momentum 0.9, weight decay 0.01)', () =>
    againstFixture('sgd_momentum', (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })));
  it('AdamW (betas 0.9/0.95, weight decay 0.1)', () =>
    againstFixture(
      'adamw',
      (ps) => new optim.AdamW(ps, { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 }),
    ));
});

/** Four steps of an optimizer on one parameter, against a float64 reference `ref(p, g, t)`. */
async function againstReference(
  make: (p: Tensor) => optim.Optimizer<{ lr: number }>,
  ref: (p: Float64Array, g: Float32Array, t: number) => void,
) {
  const init = randomData(7, 3);
  const p = dev.tensor(init, [7]).requiresGrad_();
  const expected = Float64Array.from(init);
  const opt = make(p);
  for (let t = 1; t <= 4; t++) {
    const g = randomData(7, 10 + t);
    p.grad = dev.tensor(g, [7]);
    opt.step();
    opt.zeroGrad();
    ref(expected, g, t);
  }
  expectClose(await p.read(), expected, 1e-7, 1e-6, 'param');
  opt.dispose();
  p.dispose();
}

describe('optimizer variants against float64 references', () => {
  it('SGD nesterov with dampening 0, and plain SGD', async () => {
    const buf = new Float64Array(7);
    await againstReference(
      (p) => new optim.SGD([p], { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.1 }),
      (p, g, t) => {
        for (let i = 0; i < p.length; i++) {
          const d = g[i]! + 0.1 * p[i]!;
          buf[i] = t === 1 ? d : 0.8 * buf[i]! + d;
          p[i]! -= 0.05 * (d + 0.8 * buf[i]!);
        }
      },
    );
    await againstReference(
      (p) => new optim.SGD([p], { lr: 0.3 }),
      (p, g) => {
        for (let i = 0; i < p.length; i++) p[i]! -= 0.3 * g[i]!;
      },
    );
  });

  it('SGD with dampening', async () => {
    const buf = new Float64Array(7);
    await againstReference(
      (p) => new optim.SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 }),
      (p, g, t) => {
        for (let i = 0; i < p.length; i++) {
          buf[i] = t === 1 ? g[i]! : 0.9 * buf[i]! + 0.5 * g[i]!;
          p[i]! -= 0.1 * buf[i]!;
        }
      },
    );
  });

  it('AdamW with AMSGrad', async () => {
    const [m, v, vmax] = [new Float64Array(7), new Float64Array(7), new Float64Array(7)];
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.99, 1e-8, 0.05];
    await againstReference(
      (p) => new optim.AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd, amsgrad: true }),
      (p, g, t) => {
        for (let i = 0; i < p.length; i++) {
          p[i]! *= 1 - lr * wd;
          m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
          v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
          vmax[i] = Math.max(vmax[i]!, v[i]!);
          p[i]! -= ((lr / (1 - b1 ** t)) * m[i]!) / (Math.sqrt(vmax[i]!) / Math.sqrt(1 - b2 ** t) + eps);
        }
      },
    );
  });
});

describe('Optimizer', () => {
  it('update kernels: generated WGSL (snapshot)', () => {
    for (const spec of [sgdSpec(true), sgdSpec(false), adamwSpec(false), adamwSpec(true), scaleSpec()]) {
      expect(wgslSource(spec)).toMatchSnapshot(spec.key);
    }
  });

  it('parameter groups keep their own hyper-parameters; params without grad are skipped', async () => {
    const a = dev.tensor([1, 2], [2]).requiresGrad_();
    const b = dev.tensor([3, 4], [2]).requiresGrad_();
    const c = dev.tensor([5], [1]).requiresGrad_();
    const opt = new optim.SGD([{ params: [a] }, { params: [b, c], lr: 0.5 }], { lr: 0.1 });
    a.grad = dev.tensor([1, 1], [2]);
    b.grad = dev.tensor([1, 1], [2]);
    opt.step();
    expectClose(await a.read(), [0.9, 1.9], 1e-7, 0, 'a');
    expectClose(await b.read(), [2.5, 3.5], 1e-7, 0, 'b');
    expect(Array.from(await c.read())).toEqual([5]);
    const sd = opt.stateDict();
    expect(sd.step).toBe(1);
    expect(sd.paramGroups.map((g) => [g.lr, g.params])).toEqual([
      [0.1, [0]],
      [0.5, [1, 2]],
    ]);
    expect(Object.keys(sd.state)).toEqual(['0', '1']); // c never had a gradient
    opt.zeroGrad();
    for (const t of [a, b, c]) t.dispose();
  });

  it('stateDict / loadStateDict resume AdamW exactly', async () => {
    const init = randomData(6, 4);
    const grads = [1, 2, 3, 4].map((s) => randomData(6, 20 + s));
    const run = (p: Tensor, opt: optim.AdamW, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        p.grad = dev.tensor(grads[s]!, [6]);
        opt.step();
        opt.zeroGrad();
      }
    };
    const p1 = dev.tensor(init, [6]).requiresGrad_();
    const o1 = new optim.AdamW([p1], { lr: 0.1 });
    run(p1, o1, 0, 4);
    const p2 = dev.tensor(init, [6]).requiresGrad_();
    const o2 = new optim.AdamW([p2], { lr: 0.1 });
    run(p2, o2, 0, 2);
    const p3 = dev.tensor(await p2.read(), [6]).requiresGrad_();
    const o3 = new optim.AdamW([p3], { lr: 0.5 });
    o3.loadStateDict(o2.stateDict());
    o2.dispose(); // the loaded state is a copy
    expect(o3.paramGroups[0]!.lr).toBe(0.1);
    expect(o3.stepCount).toBe(2);
    run(p3, o3, 2, 4);
    expect(Array.from(await p3.read())).toEqual(Array.from(await p1.read()));
    expect(() =>
      o3.loadStateDict({ ...o1.stateDict(), state: { 0: { step: 1, tensors: { exp_avg: p1 } } } }),
    ).toThrowError(/parameter 0 has state \[exp_avg\]; expected \[exp_avg, exp_avg_sq\]/);
    for (const t of [p1, p2, p3]) t.dispose();
    o1.dispose();
    o3.dispose();
  });

  it('refuses integer, duplicated or computed parameters and bad hyper-parameters', () => {
    const w = dev.tensor([1, 2], [2]).requiresGrad_();
    expect(() => new optim.SGD([dev.tensor(new Int32Array(2), [2])], { lr: 1 })).toThrowError(
      /SGD: group 0 param 0 \[2\] has dtype i32; expected f32/,
    );
    expect(() => new optim.AdamW([w, w])).toThrowError(/appears twice/);
    expect(() => new optim.AdamW([])).toThrowError(/AdamW: got an empty parameter list/);
    expect(() => new optim.SGD([w], { lr: 0.1, nesterov: true })).toThrowError(/nesterov needs momentum > 0/);
    expect(() => new optim.AdamW([w], { betas: [0.9, 1.5] })).toThrowError(/betas \[0.9,1.5\]/);
    expect(() => new optim.SGD([w], { lr: -1 })).toThrowError(/lr is -1/);
    w.dispose();
  });
});

describe('clipGradNorm', () => {
  for (const name of ['clip_grad_norm', 'clip_grad_norm_noop']) {
    it(`${name} matches torch.nn.utils.clip_grad_norm_`, async () => {
      const maxNorm = name === 'clip_grad_norm' ? 0.5 : 100;
      const ps = ['p0', 'p1'].map((k) => {
        const p = dev.zeros(shapeOf(`${name}.grad.${k}`)).requiresGrad_();
        p.grad = dev.tensor(host(`${name}.grad.${k}`), p.shape);
        return p;
      });
      const total = optim.clipGradNorm(ps, maxNorm);
      expect(total.shape).toEqual([]);
      expectClose(await total.read(), host(`${name}.total_norm`), 0, 1e-6, 'total_norm');
      for (const [i, p] of ps.entries()) {
        expectClose(await p.grad!.read(), host(`${name}.clipped.p${i}`), 1e-7, 1e-6, `clipped p${i}`);
      }
      total.dispose();
      for (const p of ps) p.dispose();
    });
  }

  it('infinity and 1-norms; clipGradNormValue reads the number', async () => {
    const p = dev.zeros([3]).requiresGrad_();
    p.grad = dev.tensor([3, -4, 1], [3]);
    expect(await optim.clipGradNormValue([p], 2, { normType: Number.POSITIVE_INFINITY })).toBe(4);
    expectClose(await p.grad.read(), [1.5, -2, 0.5], 1e-6, 0, 'inf-clipped');
    expectClose([await optim.clipGradNormValue(p, 1, { normType: 1 })], [4], 0, 1e-6, '1-norm');
    expectClose(await p.grad.read(), [0.375, -0.5, 0.125], 1e-6, 0, '1-clipped');
    p.dispose();
  });
});

describe('schedules', () => {
  const expected = host('lr_schedule.lr'); // HF get_cosine_schedule_with_warmup(10, 50), base 1e-3
  it('cosineWithWarmup matches Hugging Face, and LRScheduler drives an optimizer through it', () => {
    const schedule = optim.cosineWithWarmup({ warmupSteps: 10, totalSteps: 50 });
    const got = Array.from({ length: 51 }, (_, s) => schedule(s, 1e-3));
    expectClose(got, expected, 0, 1e-6, 'lr');
    const p = dev.zeros([1]).requiresGrad_();
    const opt = new optim.SGD([p], { lr: 1e-3 });
    const sched = new optim.LRScheduler(opt, schedule);
    const seen: number[] = [];
    for (let s = 0; s <= 50; s++) {
      seen.push(opt.paramGroups[0]!.lr);
      opt.step();
      sched.step();
    }
    expectClose(seen, expected, 0, 1e-6, 'scheduled lr');
    // the base rate travels in the optimizer's state: a fresh scheduler resumes from lastStep alone
    const opt2 = new optim.SGD([p], { lr: 123 });
    opt2.loadStateDict(opt.stateDict());
    const resumed = new optim.LRScheduler(opt2, schedule, { lastStep: 20 });
    expectClose([resumed.lr], [expected[20]!], 0, 1e-6, 'resumed lr');
    p.dispose();
  });

  it('linearWarmup (constant after warmup, or linear decay to minLr), constant, and minLr for cosine', () => {
    const flat = optim.linearWarmup({ warmupSteps: 4 });
    expect([0, 2, 4, 100].map((s) => flat(s, 1))).toEqual([0, 0.5, 1, 1]);
    const decay = optim.linearWarmup({ warmupSteps: 2, totalSteps: 6, minLr: 0.2 });
    expectClose(
      [1, 2, 4, 6, 9].map((s) => decay(s, 1)),
      [0.5, 1, 0.6, 0.2, 0.2],
      1e-12,
      0,
      'linear',
    );
    expect(optim.constant()(1000, 0.3)).toBe(0.3);
    const cos = optim.cosineWithWarmup({ warmupSteps: 0, totalSteps: 10, minLr: 0.1 });
    expect(cos(0, 1)).toBe(1);
    expect(cos(10, 1)).toBeCloseTo(0.1, 12);
    expect(cos(20, 1)).toBeCloseTo(0.1, 12); // stays at minLr past totalSteps
    expect(() => optim.cosineWithWarmup({ warmupSteps: 10, totalSteps: 5 })).toThrowError(
      /totalSteps 5 must be an integer >= warmupSteps 10/,
    );
  });
});

describe('ExponentialMovingAverage', () => {
  it('follows shadow = d·shadow + (1 - d)·param with the warmup decay; copyTo, store and restore', async () => {
    const p = dev.tensor(randomData(6, 3), [2, 3]).requiresGrad_();
    const q = dev.tensor(randomData(4, 4), [4]).requiresGrad_();
    const ema = new optim.ExponentialMovingAverage([p, q], { decay: 0.9 });
    const want = [Float64Array.from(await p.read()), Float64Array.from(await q.read())];
    const live = dev.memory().liveTensors;
    for (let n = 0; n < 5; n++) {
      const d = Math.min(0.9, (1 + n) / (10 + n));
      expect(ema.currentDecay()).toBeCloseTo(d, 12);
      // a stand-in for an optimizer step: every parameter moves by 0.5 (n + 1)
      noGrad(() =>
        [p, q].forEach((t) => {
          tidy(() => copyInto(t, add(t, 0.5 * (n + 1))));
        }),
      );
      const values = [await p.read(), await q.read()];
      want.forEach((w, i) => {
        for (let k = 0; k < w.length; k++) w[k] = d * w[k]! + (1 - d) * values[i]![k]!;
      });
      ema.update();
    }
    expect(dev.memory().liveTensors).toBe(live); // updates allocate nothing that stays
    expectClose(await ema.shadow[0]!.read(), want[0]!, 1e-6, 1e-6, 'shadow p');
    expectClose(await ema.shadow[1]!.read(), want[1]!, 1e-6, 1e-6, 'shadow q');
    const before = await p.read();
    ema.store();
    ema.copyTo();
    expectClose(await p.read(), want[0]!, 1e-6, 1e-6, 'copyTo');
    ema.restore();
    expect(await p.read()).toEqual(before);
    expect(() => ema.restore()).toThrowError(/nothing stored/);
    ema.dispose();
    expect(() => new optim.ExponentialMovingAverage([p], { decay: 1 })).toThrowError(
      /decay is 1; expected a number in \[0, 1\)/,
    );
  });
});
