/**
 * One training step of a small GPT (forward, cross-entropy, backward, AdamW), the same model three
 * ways on one machine: `models.GPT` on our WebGPU device and on our CPU backend, and the same network
 * written with tfjs-core ops on tfjs-webgpu (same Dawn adapter). Every implementation trains on the same
 * fixed batch of random bytes from its own seeded init, so the loss starts near ln 256 and falls.
 */
import { createDevice, type Device, models, nn, optim, type Tensor, tidy } from '@multihead/core';
import { type BenchEnv, median, round, type TfTensor, type TfVariable } from './env.js';
import { causalMask } from './onnx.js';
import { useTfjsWasm } from './tfjs-wasm.js';
import type { BenchRow } from './types.js';

/** nanoGPT-style byte-level GPT: the one model every implementation builds. */
export const TRAIN_MODEL = {
  vocabSize: 256,
  nEmbd: 128,
  nLayer: 4,
  nHead: 4,
  batch: 8,
} as const;
/** AdamW as nanoGPT configures it (no clipping, no schedule). */
export const TRAIN_OPTIM = { lr: 3e-4, betas: [0.9, 0.95] as [number, number], eps: 1e-8, weightDecay: 0.1 };
/** PyTorch's `nn.LayerNorm` default, which our LayerNorm also uses. */
const LN_EPS = 1e-5;
const WARMUP_STEPS = 1;
/** Threads of tfjs-backend-wasm's XNNPACK pool, as our CPU backend's default on the 2-core machine. */
const TRAIN_THREADS = 2;
const DATA_SEED = 42;
const INIT_SEED = 1;

export interface Trained {
  ms: number;
  /** ms of every timed step */
  samples: number[];
  initialLoss: number;
  firstLoss: number;
  lastLoss: number;
  params: number;
  peakBytes?: number;
}

/** B·(T+1) random byte ids (xorshift32): inputs are the first T of each row, targets the next T. */
function byteBatch(B: number, T: number, seed: number): { inputs: Int32Array; targets: Int32Array } {
  let s = seed >>> 0 || 1;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t <= T; t++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const id = (s >>> 0) % TRAIN_MODEL.vocabSize;
      if (t < T) inputs[b * T + t] = id;
      if (t > 0) targets[b * T + t - 1] = id;
    }
  }
  return { inputs, targets };
}

/** Warm-up steps (pipelines compile), then `steps` timed steps; each step returns its loss, read back. */
async function runSteps(step: () => Promise<number>, steps: number, after?: () => void) {
  let initialLoss = Number.NaN;
  for (let i = 0; i < WARMUP_STEPS; i++) {
    const loss = await step();
    if (i === 0) initialLoss = loss;
    after?.();
  }
  const samples: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    losses.push(await step());
    samples.push(performance.now() - t0);
    after?.();
  }
  return {
    ms: median(samples),
    samples,
    initialLoss,
    firstLoss: losses[0]!,
    lastLoss: losses.at(-1)!,
  };
}

/**
 * nanoGPT's optimizer groups: weight decay on matrices and embeddings (rank >= 2), none on biases and
 * LayerNorm parameters. The tfjs model splits its variables the same way.
 */
const decays = (shape: readonly number[]) => shape.length >= 2;

/** One training step, built once: `run` returns the step's loss (tracked: the caller disposes it). */
export interface TrainStep {
  run(): Tensor;
  numParameters: number;
  dispose(): void;
}

/** `models.GPT` + `nn.crossEntropy` + `optim.AdamW` on one fixed batch, one `tidy` a step. */
export function gptStep(device: Device, B: number, T: number): TrainStep {
  const { vocabSize, nLayer, nHead, nEmbd } = TRAIN_MODEL;
  const gpt = new models.GPT(device, { vocabSize, blockSize: T, nLayer, nHead, nEmbd, seed: INIT_SEED });
  const params = gpt.parameters();
  const { weightDecay, ...hyper } = TRAIN_OPTIM;
  const opt = new optim.AdamW(
    [
      { params: params.filter((p) => decays(p.shape)), weightDecay },
      { params: params.filter((p) => !decays(p.shape)), weightDecay: 0 },
    ],
    hyper,
  );
  const data = byteBatch(B, T, DATA_SEED);
  const inputs = device.tensor(data.inputs, [B, T], { dtype: 'i32' });
  const targets = device.tensor(data.targets, [B, T], { dtype: 'i32' });
  return {
    run: () =>
      tidy(() => {
        const l = nn.crossEntropy(gpt.forward(inputs), targets); // logits [B, T, V]
        l.backward();
        opt.step();
        opt.zeroGrad();
        return l;
      }),
    numParameters: gpt.numParameters(),
    dispose: () => {
      inputs.dispose();
      targets.dispose();
      opt.dispose();
      gpt.dispose();
    },
  };
}

/** Trains `models.GPT` on `device` for `steps` timed steps after a warm-up (also used by the cpu bench). */
export async function trainOurs(device: Device, B: number, T: number, steps: number): Promise<Trained> {
  const onGpu = device.gpu !== null;
  device.gpu?.emptyPool(); // the pool keeps every buffer it made: its size after the run is the peak
  let peak = device.memory().gpuAllocatedBytes;
  const sample = () => {
    peak = Math.max(peak, device.memory().gpuAllocatedBytes);
  };
  const step = gptStep(device, B, T);
  try {
    const r = await runSteps(
      async () => {
        const loss: Tensor = step.run();
        sample();
        // the read waits for everything queued this step (the optimizer's updates come before it)
        const value = (await loss.read())[0]!;
        loss.dispose();
        return value;
      },
      steps,
      sample,
    );
    return { ...r, params: step.numParameters, ...(onGpu ? { peakBytes: peak } : {}) };
  } finally {
    step.dispose();
  }
}

/** Box-Muller normals from a seeded xorshift32, for the tfjs weights (tfjs' own RNG differs from ours). */
function normals(n: number, std: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(a) * std;
  }
  return out;
}

let tfRuns = 0;
let tfGradients: Promise<void> | null = null;

/**
 * tfjs-core's node bundle (what `import('@tensorflow/tfjs-core')` loads) registers no gradients: the
 * union package `@tensorflow/tfjs` does, by importing `dist/register_all_gradients`, an ES module tree
 * with extensionless imports that Node's ESM loader rejects. tsx's CommonJS loader resolves and
 * compiles it (about 3 s, once, outside the timings); the configs land in tfjs' global gradient
 * registry, which every copy of tfjs-core shares.
 */
function registerTfGradients(): Promise<void> {
  tfGradients ??= (async () => {
    const specifier = 'tsx/cjs/api';
    const tsx = (await import(specifier)) as { require: (id: string, parent: string) => unknown };
    tsx.require('@tensorflow/tfjs-core/dist/register_all_gradients', import.meta.url);
  })();
  return tfGradients;
}

/**
 * The same GPT in tfjs-core ops: weights [in, out] (x @ W), embedding by `tf.gather`, attention as
 * matMul -> scale -> additive causal mask -> softmax -> matMul, LayerNorm from `tf.moments`, GELU's tanh
 * form by formula, the head tied to wte (x @ wteᵀ). AdamW is tfjs' Adam plus the decoupled decay
 * `p *= 1 - lr·wd` applied after the gradients are taken and before Adam's update, as PyTorch's AdamW.
 * On tfjs' WebGPU backend (env.ts's, the same adapter as ours) or its wasm one (XNNPACK, SIMD, threads).
 */
export async function tfjs(
  env: BenchEnv,
  backend: 'webgpu' | 'wasm',
  B: number,
  T: number,
  steps: number,
): Promise<Trained & { device: string }> {
  const { tf } = env;
  await registerTfGradients();
  if (backend === 'wasm') {
    const wasm = await useTfjsWasm(tf, TRAIN_THREADS);
    try {
      // tfjs-backend-wasm has no UnsortedSegmentSum (tf.gather's gradient): the embedding is one-hot · wte
      const device = wasm.describe + (wasm.note ? ` (${wasm.note})` : '');
      return { ...(await tfjsOn(env, B, T, steps, true)), device };
    } finally {
      await (tf as unknown as { setBackend(name: string): Promise<boolean> }).setBackend('webgpu');
    }
  }
  return { ...(await tfjsOn(env, B, T, steps)), device: env.tfAdapter };
}

/** `tfjs`'s model on whichever backend tfjs has active (`oneHotEmbedding`: one-hot · wte, not gather). */
async function tfjsOn(
  env: BenchEnv,
  B: number,
  T: number,
  steps: number,
  oneHotEmbedding = false,
): Promise<Trained> {
  const { tf } = env;
  const { vocabSize: V, nEmbd: C, nLayer: L, nHead: H } = TRAIN_MODEL;
  const hd = C / H;
  const run = tfRuns++; // variable names are global to tfjs' engine: unique per run
  const vars: TfVariable[] = [];
  let seed = 1000;
  // GPT-2 init (as models.GPT): N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), biases 0, LN 1/0
  const param = (name: string, shape: number[], init: 'normal' | 'proj' | 'zeros' | 'ones') => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values =
      init === 'zeros'
        ? new Float32Array(n)
        : init === 'ones'
          ? new Float32Array(n).fill(1)
          : normals(n, init === 'proj' ? 0.02 / Math.sqrt(2 * L) : 0.02, seed++);
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, true, `train${run}/${name}`);
    initial.dispose();
    vars.push(v);
    return v;
  };
  const wte = param('wte', [V, C], 'normal');
  const wpe = param('wpe', [T, C], 'normal');
  const blocks = Array.from({ length: L }, (_, i) => ({
    ln1: { g: param(`h${i}.ln_1.weight`, [C], 'ones'), b: param(`h${i}.ln_1.bias`, [C], 'zeros') },
    attnW: param(`h${i}.attn.c_attn.weight`, [C, 3 * C], 'normal'),
    attnB: param(`h${i}.attn.c_attn.bias`, [3 * C], 'zeros'),
    projW: param(`h${i}.attn.c_proj.weight`, [C, C], 'proj'),
    projB: param(`h${i}.attn.c_proj.bias`, [C], 'zeros'),
    ln2: { g: param(`h${i}.ln_2.weight`, [C], 'ones'), b: param(`h${i}.ln_2.bias`, [C], 'zeros') },
    fcW: param(`h${i}.mlp.c_fc.weight`, [C, 4 * C], 'normal'),
    fcB: param(`h${i}.mlp.c_fc.bias`, [4 * C], 'zeros'),
    fcProjW: param(`h${i}.mlp.c_proj.weight`, [4 * C, C], 'proj'),
    fcProjB: param(`h${i}.mlp.c_proj.bias`, [C], 'zeros'),
  }));
  const lnf = { g: param('ln_f.weight', [C], 'ones'), b: param('ln_f.bias', [C], 'zeros') };

  const data = byteBatch(B, T, DATA_SEED);
  const ids = tf.tensor(data.inputs, [B * T], 'int32');
  const targetIds = tf.tensor(data.targets, [B * T], 'int32');
  const labels = tf.tidy(() => tf.cast(tf.oneHot(targetIds, V), 'float32')); // [B·T, V]
  const idsOneHot = oneHotEmbedding ? tf.tidy(() => tf.cast(tf.oneHot(ids, V), 'float32')) : null; // [B·T, V]
  const mask = tf.tensor(causalMask(T), [T, T]);
  const opt = tf.train.adam(TRAIN_OPTIM.lr, TRAIN_OPTIM.betas[0], TRAIN_OPTIM.betas[1], TRAIN_OPTIM.eps);
  const decayed = vars.filter((v) => decays(v.shape));
  const keep = 1 - TRAIN_OPTIM.lr * TRAIN_OPTIM.weightDecay;

  const layerNorm = (x: TfTensor, p: { g: TfTensor; b: TfTensor }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), p.g), p.b);
  };
  // 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))  (Hendrycks & Gimpel 2016, tanh form)
  const gelu = (x: TfTensor) => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  };
  const heads = (x: TfTensor) =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]); // [B·H, T, hd]
  const lossFn = () => {
    const tokens = idsOneHot ? tf.matMul(idsOneHot, wte) : tf.gather(wte, ids); // [B·T, C]
    let x = tf.reshape(tf.add(tf.reshape(tokens, [B, T, C]), wpe), [B * T, C]); // [B·T, C]
    for (const blk of blocks) {
      const qkv = tf.add(tf.matMul(layerNorm(x, blk.ln1), blk.attnW), blk.attnB); // [B·T, 3C]
      const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [TfTensor, TfTensor, TfTensor];
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask); // [B·H, T, T]
      const y = tf.matMul(tf.softmax(scores), v); // [B·H, T, hd]
      const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, tf.add(tf.matMul(merged, blk.projW), blk.projB));
      const hidden = gelu(tf.add(tf.matMul(layerNorm(x, blk.ln2), blk.fcW), blk.fcB)); // [B·T, 4C]
      x = tf.add(x, tf.add(tf.matMul(hidden, blk.fcProjW), blk.fcProjB));
    }
    const logits = tf.matMul(layerNorm(x, lnf), wte, false, true); // tied head: [B·T, V]
    return tf.losses.softmaxCrossEntropy(labels, logits); // mean over the B·T rows
  };

  try {
    const r = await runSteps(async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, vars);
        for (const p of decayed) p.assign(tf.mul(p, keep)); // decoupled weight decay (AdamW)
        opt.applyGradients(grads);
        return value;
      });
      const value = (await loss.data())[0]!;
      loss.dispose();
      return value;
    }, steps);
    return { ...r, params: vars.reduce((n, v) => n + v.size, 0) };
  } finally {
    opt.dispose();
    tf.dispose([...vars, ids, targetIds, labels, mask, ...(idsOneHot ? [idsOneHot] : [])]);
  }
}

export async function benchTrain(
  env: BenchEnv,
  sizes: readonly number[],
  steps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const B = TRAIN_MODEL.batch;
  for (const T of sizes) {
    const base = { bench: 'train' as const, size: `B${B} T${T}` };
    const row = (impl: string, device: string, r: Trained): BenchRow => ({
      ...base,
      impl,
      ms: round(r.ms, 4),
      tokensPerSecond: round((B * T * 1000) / r.ms),
      initialLoss: round(r.initialLoss, 4),
      firstLoss: round(r.firstLoss, 4),
      lastLoss: round(r.lastLoss, 4),
      params: r.params,
      ...(r.peakBytes !== undefined ? { peakBytes: r.peakBytes } : {}),
      device,
      reps: r.samples.length,
      iters: 1,
    });
    const attempt = async (impl: string, device: string, fn: () => Promise<Trained>) => {
      let r: BenchRow;
      try {
        r = row(impl, device, await fn());
      } catch (error) {
        r = {
          ...base,
          impl,
          ms: Number.NaN,
          error: String((error as Error)?.message ?? error).slice(0, 300),
          device,
          reps: 0,
          iters: 0,
        };
      }
      progress();
      return r;
    };
    const gpu = await attempt('multihead-webgpu', env.adapter, () => trainOurs(env.gpu, B, T, steps));
    const cpu = await attempt('multihead-cpu', env.cpu.describe(), () => trainOurs(env.cpu, B, T, steps));
    // the CPU backend before its wasm kernels: the plain-TypeScript reference kernels
    const reference = await createDevice({ backend: 'cpu', kernels: 'reference' });
    const ts = await attempt('multihead-cpu-reference', reference.describe(), () =>
      trainOurs(reference, B, T, steps),
    );
    let tfWasmDevice = 'tfjs-backend-wasm';
    const tfWasm = await attempt('tfjs-wasm', tfWasmDevice, async () => {
      const r = await tfjs(env, 'wasm', B, T, steps);
      tfWasmDevice = r.device;
      return r;
    });
    tfWasm.device = tfWasmDevice;
    const tf = await attempt('tfjs-webgpu', env.tfAdapter, () => tfjs(env, 'webgpu', B, T, steps));
    for (const r of [gpu, cpu, ts]) {
      if (r.error) continue;
      if (!tf.error) r.vsTfjs = round(r.tokensPerSecond! / tf.tokensPerSecond!);
      if (!tfWasm.error) r.vsTfjsWasm = round(r.tokensPerSecond! / tfWasm.tokensPerSecond!);
    }
    rows.push(gpu, cpu, ts, tfWasm, tf);
  }
  return rows;
}
