/**
 * `multihead demo` (the README's main job): on the backend `auto` picks, it trains a small GPT to
 * reverse sequences and decodes unseen ones, then times core ops and attention (fused, causal, and
 * unfused for contrast), checking each against the CPU reference.
 */
import {
  argmax,
  attention,
  createDevice,
  type Device,
  gelu,
  layerNorm,
  matmul,
  models,
  mul,
  nn,
  noGrad,
  optim,
  randn,
  reversalTask,
  softmax,
  type Tensor,
  tidy,
  train,
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

/**
 * Trains a 2-layer GPT to reverse sequences of digits (autograd, fused attention forward and backward,
 * cross-entropy, AdamW through `train`), then decodes unseen problems greedily, token by token with the
 * KV cache.
 */
async function trainReversal(device: Device, opts: CommonOptions) {
  const task = reversalTask();
  const gpt = new models.GPT(device, {
    vocabSize: task.vocabSize,
    blockSize: task.inputLength,
    nLayer: 2,
    nHead: 2,
    nEmbd: 32,
    seed: opts.seed + 1,
  });
  const optimizer = new optim.AdamW(gpt.parameters(), { lr: 1e-2, betas: [0.9, 0.98], weightDecay: 0 });
  const steps = 120;
  const batchSize = 32;
  const bar = opts.json ? null : progressBar('train', steps);
  let reported = 0;
  const summary = await train({
    optimizer,
    steps,
    progressEvery: 20,
    tokensPerStep: batchSize * task.inputLength,
    batch: (step) => task.batch(device, batchSize, opts.seed * 100_000 + step),
    loss: ({ inputs, targets }) => nn.crossEntropy(gpt.forward(inputs), targets),
    onProgress: (p) => {
      bar?.tick(p.step - reported);
      reported = p.step;
    },
  });
  bar?.stop();
  gpt.eval();
  const samples: { prompt: number[]; predicted: number[]; answer: number[] }[] = [];
  for (let i = 0; i < 5; i++) {
    const { prompt, answer } = task.sample(1_000_000 + opts.seed * 10 + i); // not among the training seeds
    samples.push({
      prompt,
      answer,
      predicted: await greedy(gpt, [...prompt, task.separator], answer.length),
    });
  }
  optimizer.dispose();
  gpt.dispose();
  const exactMatch = samples.filter((x) => x.predicted.join() === x.answer.join()).length / samples.length;
  return { losses: summary.losses, seconds: summary.seconds, steps, samples, exactMatch };
}

/** Greedy decoding with one KV cache per layer: the prompt once, then one token per step. */
async function greedy(gpt: models.GPT, prompt: number[], count: number): Promise<number[]> {
  const device = gpt.device;
  const caches = gpt.createCaches(1);
  const out: number[] = [];
  let next = prompt;
  for (let i = 0; i < count; i++) {
    const token = noGrad(() =>
      tidy(() => {
        const ids = device.tensor(Int32Array.from(next), [1, next.length], { dtype: 'i32' });
        const logits = gpt.forward(ids, { caches });
        return argmax(logits.slice(1, next.length - 1), -1); // the last position's prediction
      }),
    );
    out.push((await token.read())[0]!);
    token.dispose();
    next = [out[out.length - 1]!];
  }
  for (const c of caches) c.dispose();
  return out;
}

export async function demo(opts: CommonOptions): Promise<void> {
  const device = await openDevice(opts);
  const cpu = await createDevice({ backend: 'cpu' });
  if (device.adapter)
    say(
      opts,
      `adapter: ${device.adapter.vendor}/${device.adapter.architecture} (${device.adapter.description})`,
    );

  say(opts, '\n1) training a 2-layer GPT to reverse 4 digits (autograd, fused attention, AdamW)');
  const training = await trainReversal(device, opts);
  say(opts, `   loss ${training.losses.map((l) => l.loss.toFixed(3)).join(' -> ')}`);
  say(
    opts,
    `   ${training.steps} steps in ${training.seconds.toFixed(1)} s; greedy decoding of unseen problems:`,
  );
  for (const s of training.samples) {
    const ok = s.predicted.join('') === s.answer.join('');
    say(
      opts,
      `   ${s.prompt.join(' ')} | -> ${s.predicted.join(' ')}  ${ok ? 'ok' : `(expected ${s.answer.join(' ')})`}`,
    );
  }

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
