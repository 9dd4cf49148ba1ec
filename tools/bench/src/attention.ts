/**
 * Attention forward (and our backward), B 1, H 8, D 64, f32, causal and not, on one Dawn adapter:
 * our fused kernel (`attention`), our backward (`attentionBackward`), an unfused reference built from our
 * ops (matmul -> scale -> mask -> softmax -> matmul), tfjs-webgpu doing the same, and onnxruntime-web's
 * WebGPU EP running the same plain ONNX graph.
 */
import {
  type AttentionKernel,
  add,
  attention,
  attentionBackward,
  type Device,
  defaultAttentionKernel,
  matmul,
  mul,
  softmax,
  type Tensor,
  tidy,
} from '@multihead/core';
import { type BenchEnv, randomFloats, round, timeAlternating, timeIt } from './env.js';
import { causalMask, plainAttentionModel } from './onnx.js';
import { installSharedArrayBufferShim } from './sab-shim.js';
import type { BenchRow } from './types.js';

const B = 1;
const H = 8;
const D = 64;
/** Calls take seconds on SwiftShader at N = 2048: past this, one call after the warm-up is the timing. */
const ONCE_MS = 5000;

export interface AttentionCase {
  N: number;
  causal: boolean;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
}

interface Timed {
  ms: number;
  iters: number;
  reps: number;
  out: Float32Array;
  peakBytes?: number;
}

/** One case's inputs, seeded by N: every benchmark of attention (this one, cpu, gpu-kit) times the same. */
export function attentionCase(N: number, causal: boolean): AttentionCase {
  const n = B * H * N * D;
  return {
    N,
    causal,
    q: randomFloats(n, 4000 + N),
    k: randomFloats(n, 5000 + N),
    v: randomFloats(n, 6000 + N),
    dout: randomFloats(n, 7000 + N),
  };
}

/** Query rows checked in every head. */
const checkRows = (N: number) => [0, N >> 1, N - 1];

/**
 * float64 reference for one query row i of head h ([B=1, H, N, D] layout): the output row and, given
 * dout, the dq row (dq_i = scale · Σ_j P_ij (dout_i·v_j − dout_i·o_i) k_j).
 */
function refRow(c: Case, h: number, i: number): { o: Float64Array; dq: Float64Array } {
  const { N, q, k, v, dout } = c;
  const base = h * N * D;
  const scale = 1 / Math.sqrt(D);
  const lim = c.causal ? i + 1 : N;
  const p = new Float64Array(lim);
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < lim; j++) {
    let s = 0;
    for (let t = 0; t < D; t++) s += q[base + i * D + t]! * k[base + j * D + t]!;
    p[j] = s * scale;
    m = Math.max(m, p[j]!);
  }
  let z = 0;
  for (let j = 0; j < lim; j++) {
    p[j] = Math.exp(p[j]! - m);
    z += p[j]!;
  }
  const o = new Float64Array(D);
  for (let j = 0; j < lim; j++) {
    p[j]! /= z;
    for (let t = 0; t < D; t++) o[t]! += p[j]! * v[base + j * D + t]!;
  }
  let delta = 0;
  for (let t = 0; t < D; t++) delta += dout[base + i * D + t]! * o[t]!;
  const dq = new Float64Array(D);
  for (let j = 0; j < lim; j++) {
    let dp = 0;
    for (let t = 0; t < D; t++) dp += dout[base + i * D + t]! * v[base + j * D + t]!;
    const ds = p[j]! * (dp - delta) * scale;
    for (let t = 0; t < D; t++) dq[t]! += ds * k[base + j * D + t]!;
  }
  return { o, dq };
}

type Case = AttentionCase;

/** Largest |got - ref| over 3 query rows of every head; `which` picks the output or dq. */
export function attentionMaxError(got: Float32Array, c: Case, which: 'o' | 'dq'): number {
  let err = 0;
  for (let h = 0; h < H; h++) {
    for (const i of checkRows(c.N)) {
      const ref = refRow(c, h, i)[which];
      const at = (h * c.N + i) * D;
      for (let t = 0; t < D; t++) err = Math.max(err, Math.abs(got[at + t]! - ref[t]!));
    }
  }
  return err;
}

/** Runs `fn` on a freshly emptied pool and tracks our allocator's high-water mark over the case. */
async function withPeak(
  device: Device,
  fn: (sample: () => void) => Promise<Omit<Timed, 'peakBytes'>>,
): Promise<Timed> {
  device.gpu!.emptyPool();
  let peak = device.memory().gpuAllocatedBytes;
  const sample = () => {
    peak = Math.max(peak, device.memory().gpuAllocatedBytes);
  };
  const r = await fn(sample);
  sample();
  return { ...r, peakBytes: peak };
}

function inputs(device: Device, c: Case) {
  const shape = [B, H, c.N, D];
  return {
    q: device.tensor(c.q, shape),
    k: device.tensor(c.k, shape),
    v: device.tensor(c.v, shape),
    dispose(this: { q: Tensor; k: Tensor; v: Tensor }) {
      this.q.dispose();
      this.k.dispose();
      this.v.dispose();
    },
  };
}

/**
 * One of our implementations set up on a case: `step` runs one call and reads the result back when
 * `read` is set (a batch of calls ends with a read, which waits for the queue); `sample` is called while
 * the call's outputs are alive.
 */
interface Prepared {
  step(read: boolean, sample?: () => void): Promise<Float32Array | null>;
  dispose(): void;
}

function prepareFused(device: Device, c: Case, kernel: AttentionKernel): Prepared {
  const x = inputs(device, c);
  return {
    async step(read, sample) {
      const o = attention(x.q, x.k, x.v, { causal: c.causal, kernel });
      sample?.();
      const out = read ? ((await o.read()) as Float32Array) : null;
      o.dispose();
      return out;
    },
    dispose: () => x.dispose(),
  };
}

/** attentionBackward from the saved out and lse; the result read back is dq (dk and dv are read too). */
function prepareBackward(device: Device, c: Case, kernel: AttentionKernel): Prepared {
  const x = inputs(device, c);
  const dout = device.tensor(c.dout, [B, H, c.N, D]);
  const { out, lse, weights } = attention.detailed(x.q, x.k, x.v, { causal: c.causal, kernel });
  weights?.dispose();
  return {
    async step(read, sample) {
      const g = attentionBackward(x.q, x.k, x.v, out, lse, dout, { causal: c.causal, kernel });
      sample?.();
      const dq = read
        ? ((await Promise.all([g.dq.read(), g.dk.read(), g.dv.read()]))[0] as Float32Array)
        : null;
      for (const t of [g.dq, g.dk, g.dv, g.dbias]) t?.dispose();
      return dq;
    },
    dispose() {
      for (const t of [out, lse, dout]) t.dispose();
      x.dispose();
    },
  };
}

/** Our ops unfused: matmul -> scale -> (+ causal bias) -> softmax -> matmul. */
function prepareUnfused(device: Device, c: Case): Prepared {
  const x = inputs(device, c);
  const kT = x.k.mT;
  const bias = c.causal ? device.tensor(causalMask(c.N), [c.N, c.N]) : null;
  const scale = 1 / Math.sqrt(D);
  return {
    async step(read, sample) {
      const o = tidy(() => {
        const s = mul(matmul(x.q, kT), scale);
        const p = softmax(bias ? add(s, bias) : s, -1);
        return matmul(p, x.v);
      });
      sample?.();
      const out = read ? ((await o.read()) as Float32Array) : null;
      o.dispose();
      return out;
    },
    dispose() {
      bias?.dispose();
      x.dispose();
    },
  };
}

/** Times a prepared implementation (timeIt) with our allocator's peak over the case. */
function timeOurs(device: Device, prepare: () => Prepared, reps: number): Promise<Timed> {
  return withPeak(device, async (sample) => {
    const p = prepare();
    let last: Float32Array | null = null;
    try {
      const t = await timeIt(
        async (read) => {
          last = (await p.step(read, sample)) ?? last;
        },
        reps,
        250,
        ONCE_MS,
      );
      sample();
      return { ...t, out: last! };
    } finally {
      p.dispose();
    }
  });
}

/**
 * Non-causal ms / causal ms of one of our implementations, both timed in alternating batches (the rows'
 * own timings are minutes apart, with peers run between them, and a drift of the machine would skew the
 * ratio).
 */
async function causalSpeedup(N: number, prepare: (c: Case) => Prepared, reps: number): Promise<number> {
  const [plain, masked] = [prepare(attentionCase(N, false)), prepare(attentionCase(N, true))];
  try {
    const t = await timeAlternating(
      async (last) => void (await plain.step(last)),
      async (last) => void (await masked.step(last)),
      reps,
    );
    return t.a / t.b;
  } finally {
    plain.dispose();
    masked.dispose();
  }
}

async function tfjs(env: BenchEnv, c: Case, reps: number): Promise<Timed> {
  const { tf } = env;
  // B = 1: [H, N, D] batches over heads
  const q = tf.tensor3d(c.q, [H, c.N, D]);
  const k = tf.tensor3d(c.k, [H, c.N, D]);
  const v = tf.tensor3d(c.v, [H, c.N, D]);
  const mask = c.causal ? tf.tensor2d(causalMask(c.N), [c.N, c.N]) : null;
  const scale = tf.scalar(1 / Math.sqrt(D));
  let last: Float32Array | null = null;
  try {
    const t = await timeIt(
      async (read) => {
        const o = tf.tidy(() => {
          const s = tf.mul(tf.matMul(q, k, false, true), scale);
          return tf.matMul(tf.softmax(mask ? tf.add(s, mask) : s), v);
        });
        if (read) last = (await o.data()) as Float32Array;
        o.dispose();
      },
      reps,
      250,
      ONCE_MS,
    );
    return { ...t, out: last! };
  } finally {
    tf.dispose([q, k, v, scale, ...(mask ? [mask] : [])]);
  }
}

/** The slice of onnxruntime-web's API used here (variable-specifier import: see `Tf` in env.ts). */
interface OrtTensor {
  data: unknown;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  env: {
    wasm: { numThreads: number };
    logLevel: string;
    versions: { web?: string };
    webgpu?: { device?: { adapterInfo?: { vendor?: string; architecture?: string; device?: string } } };
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
}

let ortModule: Promise<Ort> | null = null;

/** onnxruntime-web's native WebGPU EP; imported after env.ts has set navigator.gpu (peers/README.md). */
export function loadOrt(): Promise<Ort> {
  ortModule ??= (async () => {
    installSharedArrayBufferShim(); // ORT hands Dawn views of its shared wasm heap
    const nav = (globalThis as unknown as { navigator?: Record<string, unknown> }).navigator;
    if (nav && nav.hardwareConcurrency === undefined) {
      Object.defineProperty(nav, 'hardwareConcurrency', { value: 2, configurable: true });
    }
    const specifier = 'onnxruntime-web/webgpu';
    const mod = (await import(specifier)) as Ort & { default?: Ort };
    const ort = mod.InferenceSession ? mod : mod.default!;
    ort.env.wasm.numThreads = 1; // more threads fail in Node: the worker is fetched from a file: URL
    ort.env.logLevel = 'error';
    return ort;
  })();
  return ortModule;
}

/** The adapter ORT's WebGPU EP opened for itself, once it has a session. */
function ortAdapter(ort: Ort): string {
  const a = ort.env.webgpu?.device?.adapterInfo;
  return a ? `${a.vendor}/${a.architecture}/${a.device}` : 'webgpu EP';
}

async function ortWeb(c: Case, reps: number): Promise<Timed & { device: string }> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(plainAttentionModel(B, H, c.N, D, c.causal), {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
  });
  const device = ortAdapter(ort);
  const dims = [B, H, c.N, D];
  const feeds = {
    Q: new ort.Tensor('float32', c.q, dims),
    K: new ort.Tensor('float32', c.k, dims),
    V: new ort.Tensor('float32', c.v, dims),
  };
  let last: Float32Array | null = null;
  try {
    const t = await timeIt(
      async (read) => {
        const out = await session.run(feeds); // output on the CPU: includes the readback
        if (read) last = out.O!.data as Float32Array;
      },
      reps,
      250,
      ONCE_MS,
    );
    return { ...t, out: last!, device };
  } finally {
    await session.release();
  }
}

export async function benchAttention(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // the kernel family 'auto' did not pick for this adapter
  const other = defaultAttentionKernel(env.gpu) === 'tiled' ? 'registers' : 'tiled';
  for (const N of sizes) {
    const byCausal = new Map<boolean, BenchRow[]>();
    for (const causal of [false, true]) {
      const c = attentionCase(N, causal);
      const fwdFlops = (4 * B * H * N * N * D) / (causal ? 2 : 1);
      const size = `B${B} H${H} N${N} D${D}`;
      const base = { bench: 'attention' as const, size, causal };
      const row = (
        impl: string,
        device: string,
        r: Timed,
        flops = fwdFlops,
        which: 'o' | 'dq' = 'o',
      ): BenchRow => ({
        ...base,
        impl,
        ms: round(r.ms, 4),
        gflops: round(flops / r.ms / 1e6),
        maxErr: round(attentionMaxError(r.out, c, which), 2),
        ...(r.peakBytes !== undefined ? { peakBytes: r.peakBytes } : {}),
        device,
        reps: r.reps,
        iters: r.iters,
      });
      const failed = (impl: string, device: string, error: unknown): BenchRow => ({
        ...base,
        impl,
        ms: Number.NaN,
        maxErr: Number.NaN,
        error: String((error as Error)?.message ?? error).slice(0, 300),
        device,
        reps: 0,
        iters: 0,
      });
      /** Our fused forward and backward with one kernel family: two rows, bwd/fwd on the second. */
      const oursPair = async (impl: string, kernel: AttentionKernel): Promise<[BenchRow, BenchRow]> => {
        const fwd = row(
          impl,
          env.adapter,
          await timeOurs(env.gpu, () => prepareFused(env.gpu, c, kernel), reps),
        );
        progress();
        const back = await timeOurs(env.gpu, () => prepareBackward(env.gpu, c, kernel), reps);
        const bwd = row(`${impl}-bwd`, env.adapter, back, 2.5 * fwdFlops, 'dq');
        bwd.bwdOverFwd = round(bwd.ms / fwd.ms);
        progress();
        return [fwd, bwd];
      };
      const [fused, bwd] = await oursPair('multihead-fused', 'auto');
      const unfused = row(
        'multihead-unfused',
        env.adapter,
        await timeOurs(env.gpu, () => prepareUnfused(env.gpu, c), reps),
      );
      progress();
      let tf: BenchRow;
      try {
        tf = row('tfjs-webgpu', env.tfAdapter, await tfjs(env, c, reps));
      } catch (error) {
        tf = failed('tfjs-webgpu', env.tfAdapter, error);
      }
      progress();
      let ort: BenchRow;
      try {
        const r = await ortWeb(c, reps);
        ort = row('ort-web-webgpu', r.device, r);
      } catch (error) {
        ort = failed('ort-web-webgpu', 'webgpu EP', error);
      }
      progress();
      for (const ours of [fused, unfused]) {
        if (!tf.error) ours.vsTfjs = round(tf.ms / ours.ms);
        if (!ort.error) ours.vsOrt = round(ort.ms / ours.ms);
      }
      const [alt, altBwd] = await oursPair(`multihead-fused-${other}`, other);
      const group = [fused, bwd, unfused, tf, ort, alt, altBwd];
      byCausal.set(causal, group);
      rows.push(...group);
    }
    // causal speed-up of ours, on the causal rows: from alternating timings where both calls are quick,
    // else the rows' ratio (the tiled family on SwiftShader takes seconds a call)
    const [plain, masked] = [byCausal.get(false)!, byCausal.get(true)!];
    const preparers: Record<string, (c: Case) => Prepared> = {
      'multihead-fused': (c) => prepareFused(env.gpu, c, 'auto'),
      'multihead-fused-bwd': (c) => prepareBackward(env.gpu, c, 'auto'),
      'multihead-unfused': (c) => prepareUnfused(env.gpu, c),
      [`multihead-fused-${other}`]: (c) => prepareFused(env.gpu, c, other),
      [`multihead-fused-${other}-bwd`]: (c) => prepareBackward(env.gpu, c, other),
    };
    for (const m of masked.filter((r) => r.impl.startsWith('multihead'))) {
      const p = plain.find((r) => r.impl === m.impl)!;
      const prepare = preparers[m.impl];
      const quick = prepare !== undefined && p.ms < ONCE_MS / 4 && m.ms < ONCE_MS / 4;
      m.causalSpeedup = round(quick ? await causalSpeedup(N, prepare, reps) : p.ms / m.ms);
      progress();
    }
  }
  return rows;
}
