/**
 * `multihead demo` (the README's main job until models land): on the backend `auto` picks, it trains
 * a softmax-regression classifier with hand-written gradients built from core ops, then times core
 * ops and attention (fused, causal, and unfused for contrast), checking each against the CPU reference.
 */
import {
  add,
  argmax,
  attention,
  cast,
  createDevice,
  type Device,
  div,
  eq,
  exp,
  gelu,
  keep,
  layerNorm,
  logSoftmax,
  matmul,
  mean,
  mul,
  randn,
  softmax,
  sub,
  sum,
  type Tensor,
  tidy,
} from '@multihead/core';
import { type CommonOptions, emitJson, openDevice, progressBar, say } from './common.js';

interface OpTiming {
  op: string;
  shape: string;
  ms: number;
  gflops: number | null;
  maxErrVsCpu: number;
}

async function timeOp(
  device: Device,
  reps: number,
  run: () => Tensor,
): Promise<{ ms: number; out: Float32Array }> {
  const warm = run();
  const out = (await warm.read()) as Float32Array;
  warm.dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run().dispose();
  await device.sync();
  return { ms: (performance.now() - t0) / reps, out };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Three Gaussian blobs in 16-D; softmax regression trained by gradient descent. */
async function train(device: Device, opts: CommonOptions) {
  const n = 768;
  const dim = 16;
  const classes = 3;
  const centers = randn(device, [classes, dim], { seed: opts.seed + 1, std: 0.4 });
  const labels = new Int32Array(n).map((_, i) => i % classes);
  const onehotHost = new Float32Array(n * classes);
  labels.forEach((c, i) => {
    onehotHost[i * classes + c] = 1;
  });
  const onehot = device.tensor(onehotHost, [n, classes]);
  const selector = device.tensor(onehotHost, [n, classes]);
  const noise = randn(device, [n, dim], { seed: opts.seed + 2 });
  const x = tidy(() => add(matmul(selector, centers), noise)); // [n, dim]
  let w = device.zeros([dim, classes]);
  const steps = 60;
  const lr = 0.5;
  const bar = opts.json ? null : progressBar('train', steps);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < steps; step++) {
    const [loss, next] = tidy(() => {
      const logits = matmul(x, w); // [n, classes]
      const logp = logSoftmax(logits, -1);
      const nll = mul(mean(sum(mul(logp, onehot), -1)), -1);
      // d loss / d w = x^T (softmax - onehot) / n
      const grad = div(matmul(x.mT, sub(exp(logp), onehot)), n);
      return [keep(nll), keep(sub(w, mul(grad, lr)))];
    });
    w.dispose();
    w = next;
    if (step % 10 === 0 || step === steps - 1) losses.push((await loss.read())[0]!);
    loss.dispose();
    bar?.tick();
  }
  bar?.stop();
  const trainMs = performance.now() - t0;
  const accuracyTensor = tidy(() => {
    const pred = argmax(matmul(x, w), -1);
    return mean(cast(eq(pred, device.tensor(labels, [n])), 'f32'));
  });
  const accuracy = await accuracyTensor.read();
  for (const t of [centers, onehot, selector, noise, x, w, accuracyTensor]) t.dispose();
  return { losses, accuracy: accuracy[0]!, trainMs, steps };
}

export async function demo(opts: CommonOptions): Promise<void> {
  const device = await openDevice(opts);
  const cpu = await createDevice({ backend: 'cpu' });
  if (device.adapter)
    say(
      opts,
      `adapter: ${device.adapter.vendor}/${device.adapter.architecture} (${device.adapter.description})`,
    );

  say(opts, '\n1) training a softmax-regression classifier (3 classes, 16-D, 768 samples) with core ops');
  const training = await train(device, opts);
  say(opts, `   loss ${training.losses.map((l) => l.toFixed(3)).join(' -> ')}`);
  say(
    opts,
    `   train accuracy ${(training.accuracy * 100).toFixed(1)}% in ${training.trainMs.toFixed(0)} ms (${training.steps} steps)`,
  );

  say(opts, `\n2) core ops on ${device.backend}, checked against the CPU reference`);
  const cases: {
    op: string;
    shape: number[][];
    flops: (s: number[][]) => number | null;
    run: (t: Tensor[]) => Tensor;
  }[] = [
    {
      op: 'matmul',
      shape: [
        [256, 256],
        [256, 256],
      ],
      flops: () => 2 * 256 ** 3,
      run: ([a, b]) => matmul(a!, b!),
    },
    { op: 'softmax', shape: [[512, 512]], flops: () => null, run: ([a]) => softmax(a!, -1) },
    { op: 'layerNorm', shape: [[512, 512]], flops: () => null, run: ([a]) => layerNorm(a!, [512]) },
    { op: 'gelu', shape: [[512, 512]], flops: () => null, run: ([a]) => gelu(a!) },
    {
      op: 'attention (fused)',
      shape: [
        [1, 4, 256, 64],
        [1, 4, 256, 64],
        [1, 4, 256, 64],
      ],
      flops: () => 4 * 4 * 256 * 256 * 64,
      run: ([q, k, v]) => attention(q!, k!, v!),
    },
    {
      op: 'attention causal',
      shape: [
        [1, 4, 256, 64],
        [1, 4, 256, 64],
        [1, 4, 256, 64],
      ],
      flops: () => (4 * 4 * 256 * 256 * 64) / 2,
      run: ([q, k, v]) => attention(q!, k!, v!, { causal: true }),
    },
    {
      op: 'attention (unfused)',
      shape: [
        [1, 4, 256, 64],
        [1, 4, 256, 64],
        [1, 4, 256, 64],
      ],
      flops: () => 4 * 4 * 256 * 256 * 64,
      run: ([q, k, v]) => tidy(() => matmul(softmax(mul(matmul(q!, k!.mT), 1 / 8), -1), v!)),
    },
  ];
  const timings: OpTiming[] = [];
  const bar = opts.json ? null : progressBar('ops', cases.length);
  for (const c of cases) {
    const inputs = c.shape.map((s, i) => randn(device, s, { seed: opts.seed + 10 + i }));
    // the CPU reference gets the very same values
    const cpuInputs = await Promise.all(inputs.map(async (t) => cpu.tensor(await t.read(), t.shape)));
    const { ms, out } = await timeOp(device, 3, () => c.run(inputs));
    const ref = c.run(cpuInputs);
    const err = maxDiff(out, (await ref.read()) as Float32Array);
    const flops = c.flops(c.shape);
    timings.push({
      op: c.op,
      shape: c.shape.map((s) => `[${s.join('x')}]`).join(' '),
      ms,
      gflops: flops ? flops / ms / 1e6 : null,
      maxErrVsCpu: err,
    });
    for (const t of [...inputs, ...cpuInputs, ref]) t.dispose();
    bar?.tick();
  }
  bar?.stop();
  for (const t of timings) {
    say(
      opts,
      `   ${t.op.padEnd(20)} ${t.shape.padEnd(32)} ${t.ms.toFixed(2).padStart(9)} ms` +
        `${t.gflops ? `${t.gflops.toFixed(2).padStart(8)} GFLOP/s` : ''.padStart(16)}   max |err| vs cpu ${t.maxErrVsCpu.toExponential(1)}`,
    );
  }
  const memory = device.memory();
  say(opts, `\nlive tensors after the demo: ${memory.liveTensors} (${memory.liveBytes} bytes)`);
  if (opts.json)
    emitJson({
      backend: device.backend,
      reason: device.reason,
      adapter: device.adapter,
      training,
      timings,
      memory,
    });
  device.destroy();
}
