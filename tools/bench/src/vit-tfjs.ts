/**
 * The ViT of vit.ts in tfjs-core ops, for tfjs' wasm and WebGPU backends: torchvision's layout
 * (pre-norm encoder blocks, class token, learned positions, GELU (erf) MLP) on the same state dict as ours,
 * so it starts from the same weights. Weights keep PyTorch's [out, in] layout (x @ Wᵀ).
 */
import type { io } from '@multihead/core';
import type { Tf, TfTensor, TfVariable } from './env.js';

/** The tfjs ops this model uses beyond env.ts' `Tf`. */
export interface TfVit extends Tf {
  erf(x: TfTensor): TfTensor;
  concat(xs: TfTensor[], axis: number): TfTensor;
  tile(x: TfTensor, reps: number[]): TfTensor;
  slice(x: TfTensor, begin: number[], size: number[]): TfTensor;
  losses: {
    softmaxCrossEntropy(
      onehotLabels: TfTensor,
      logits: TfTensor,
      weights?: TfTensor | null,
      labelSmoothing?: number,
    ): TfTensor;
  };
}

export interface VitShape {
  imageSize: number;
  patchSize: number;
  numLayers: number;
  numHeads: number;
  hiddenDim: number;
  numClasses: number;
  layerNormEps: number;
}

export interface VitOptim {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  labelSmoothing: number;
}

export interface TfjsVitStep {
  /** Runs one training step and returns its loss, read back. */
  step(): Promise<number>;
  params: number;
  dispose(): void;
}

let runs = 0;

/**
 * Builds the model from `weights` (a torchvision ViT state dict) on tfjs' current backend, with AdamW as
 * train.ts builds it for tfjs: `tf.train.adam` plus the decoupled decay p *= 1 - lr·wd applied after the
 * gradients and before Adam's update (PyTorch's order), on tensors of rank >= 2 only.
 */
export function tfjsVit(
  tf: TfVit,
  cfg: VitShape,
  opt: VitOptim,
  weights: Record<string, io.HostTensor>,
  data: { images: Float32Array; labels: Int32Array; batch: number },
): TfjsVitStep {
  const { imageSize: S, patchSize: p, numLayers: L, numHeads: H, hiddenDim: D, numClasses: K } = cfg;
  const B = data.batch;
  const g = S / p;
  const N = g * g;
  const T = N + 1;
  const hd = D / H;
  const run = runs++; // variable names are global to tfjs' engine: unique per run
  const vars: TfVariable[] = [];
  const v = (name: string): TfVariable => {
    const w = weights[name];
    if (!w) throw new Error(`bench vit: no weight ${name} in the state dict`);
    const initial = tf.tensor(w.data as Float32Array, w.shape);
    const variable = tf.variable(initial, true, `vit${run}/${name}`);
    initial.dispose();
    vars.push(variable);
    return variable;
  };
  const ln = (prefix: string) => ({ g: v(`${prefix}.weight`), b: v(`${prefix}.bias`) });
  const convW = v('conv_proj.weight'); // [D, 1, p, p]
  const convB = v('conv_proj.bias');
  const classToken = v('class_token'); // [1, 1, D]
  const pos = v('encoder.pos_embedding'); // [1, T, D]
  const blocks = Array.from({ length: L }, (_, i) => {
    const at = `encoder.layers.encoder_layer_${i}`;
    return {
      ln1: ln(`${at}.ln_1`),
      inW: v(`${at}.self_attention.in_proj_weight`), // [3D, D]
      inB: v(`${at}.self_attention.in_proj_bias`),
      outW: v(`${at}.self_attention.out_proj.weight`), // [D, D]
      outB: v(`${at}.self_attention.out_proj.bias`),
      ln2: ln(`${at}.ln_2`),
      fc1W: v(`${at}.mlp.0.weight`), // [M, D]
      fc1B: v(`${at}.mlp.0.bias`),
      fc2W: v(`${at}.mlp.3.weight`), // [D, M]
      fc2B: v(`${at}.mlp.3.bias`),
    };
  });
  const lnf = ln('encoder.ln');
  const headW = v('heads.head.weight'); // [K, D]
  const headB = v('heads.head.bias');
  const unused = Object.keys(weights).filter((k) => !vars.some((x) => x.name === `vit${run}/${k}`));
  if (unused.length) throw new Error(`bench vit: tfjs model lacks ${unused.join(', ')}`);

  const images = tf.tensor(data.images, [B, 1, S, S]);
  const labelIds = tf.tensor(data.labels, [B], 'int32');
  const labels = tf.tidy(() => tf.cast(tf.oneHot(labelIds, K), 'float32'));
  const adam = tf.train.adam(opt.lr, opt.betas[0], opt.betas[1], opt.eps);
  const decayed = vars.filter((x) => x.shape.length >= 2);
  const keep = 1 - opt.lr * opt.weightDecay;

  const linear = (x: TfTensor, w: TfTensor, b: TfTensor) => tf.add(tf.matMul(x, w, false, true), b);
  const layerNorm = (x: TfTensor, q: { g: TfTensor; b: TfTensor }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, cfg.layerNormEps))), q.g), q.b);
  };
  // 0.5·x·(1 + erf(x / √2)): nn.GELU's exact form, as torchvision's MLPBlock and our gelu
  const gelu = (x: TfTensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  const heads = (x: TfTensor) =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]); // [B·H, T, hd]
  const lossFn = () => {
    // patchify (one channel): [B, 1, S, S] -> [B, g, p, g, p] -> [B, g, g, p, p] -> [B·N, p·p]
    const patches = tf.reshape(tf.transpose(tf.reshape(images, [B, g, p, g, p]), [0, 1, 3, 2, 4]), [
      B * N,
      p * p,
    ]);
    const tokens = tf.reshape(linear(patches, tf.reshape(convW, [D, p * p]), convB), [B, N, D]);
    const withClass = tf.concat([tf.tile(classToken, [B, 1, 1]), tokens], 1); // [B, T, D]
    let x = tf.reshape(tf.add(withClass, pos), [B * T, D]);
    for (const blk of blocks) {
      const qkv = linear(layerNorm(x, blk.ln1), blk.inW, blk.inB); // [B·T, 3D]
      const [q, k, val] = tf.split(qkv, 3, 1).map(heads) as [TfTensor, TfTensor, TfTensor];
      const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)); // [B·H, T, T]
      const y = tf.matMul(tf.softmax(scores), val); // [B·H, T, hd]
      const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]);
      x = tf.add(x, linear(merged, blk.outW, blk.outB));
      x = tf.add(x, linear(gelu(linear(layerNorm(x, blk.ln2), blk.fc1W, blk.fc1B)), blk.fc2W, blk.fc2B));
    }
    const cls = tf.reshape(tf.slice(tf.reshape(layerNorm(x, lnf), [B, T, D]), [0, 0, 0], [B, 1, D]), [B, D]);
    const logits = linear(cls, headW, headB); // [B, K]
    return tf.losses.softmaxCrossEntropy(labels, logits, null, opt.labelSmoothing); // mean over the batch
  };

  return {
    params: vars.reduce((n, x) => n + x.size, 0),
    async step() {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, vars);
        for (const w of decayed) w.assign(tf.mul(w, keep)); // decoupled weight decay (AdamW)
        adam.applyGradients(grads);
        return value;
      });
      const value = (await loss.data())[0]!;
      loss.dispose();
      return value;
    },
    dispose() {
      adam.dispose();
      tf.dispose([...vars, images, labelIds, labels]);
    },
  };
}
