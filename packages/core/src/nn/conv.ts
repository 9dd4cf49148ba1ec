/**
 * 2-D convolution with PyTorch's names, shapes, arithmetic and default initialization (`nn.Conv2d`,
 * `F.conv2d`; groups 1), built from ops that already have kernels on every backend and a backward:
 *
 *   x [B, C, H, W] -> pad -> [B, C, Hp·Wp] -> indexSelect (im2col)      [B, C, L·kh·kw], L = Ho·Wo
 *     -> [B, L, C·kh·kw] -> @ weight.reshape(out, C·kh·kw)ᵀ + bias   [B, L, out] -> [B, out, Ho, Wo]
 *
 * The backward is that of the pieces: the product's, then indexSelect's adjoint (indexAdd, deterministic:
 * overlapping windows sum in a fixed order), then the padding's crop. im2col holds kh·kw copies of the
 * input, fine for the small stems and front ends it is meant for (a ViT's convolutional stem, Xiao et al.
 * 2021, "Early convolutions help transformers see better"; an audio front end); it is not a fast
 * convolution for deep CNNs.
 */
import { indexSelect, pad } from '../autograd/functions.js';
import type { Device } from '../device.js';
import { fail } from '../errors.js';
import { tidy } from '../scope.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { linear, positiveInt, WeightBiasLayer } from './layers.js';

/** A size given for both spatial dims (one number) or as [height, width]. */
export type Size2d = number | readonly [number, number];

export interface Conv2dArgs {
  /** Step between windows (default 1). */
  stride?: Size2d;
  /** Zeros added on each side (default 0). */
  padding?: Size2d;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2d;
}

function size2d(op: string, name: string, v: Size2d, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= min)) {
    fail('INVALID_ARGUMENT', `${op}: ${name} must be an integer >= ${min} or a pair of them, got ${fmt(p)}`);
  }
  return p;
}

/** Flat indices into the padded [Hp·Wp] plane: for each output position, its kh·kw taps in row-major order. */
function windowIndices(
  out: [number, number],
  kernel: [number, number],
  wp: number,
  stride: [number, number],
  dilation: [number, number],
): Int32Array {
  const [ho, wo] = out;
  const [kh, kw] = kernel;
  const idx = new Int32Array(ho * wo * kh * kw);
  let n = 0;
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++)
          idx[n++] = (oy * stride[0] + ky * dilation[0]) * wp + ox * stride[1] + kx * dilation[1];
  return idx;
}

/**
 * `F.conv2d(x, weight, bias, stride, padding, dilation)`: x [B, C, H, W], weight [out, C, kh, kw], bias [out]
 * -> [B, out, Ho, Wo] with Ho = floor((H + 2·padH - dilH·(kh - 1) - 1) / strideH) + 1 (likewise Wo).
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, args: Conv2dArgs = {}): Tensor {
  const op = 'conv2d';
  if (x.rank !== 4 || weight.rank !== 4 || x.shape[1] !== weight.shape[1]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: x ${fmt(x.shape)} must be [B, C, H, W] and weight ${fmt(weight.shape)} [out, C, kh, kw] with the same C`,
    );
  }
  const [out, channels, kh, kw] = weight.shape as [number, number, number, number];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== out)) {
    fail('SHAPE_MISMATCH', `${op}: bias ${fmt(bias.shape)} must be [${out}] (weight's out channels)`);
  }
  const stride = size2d(op, 'stride', args.stride ?? 1, 1);
  const padding = size2d(op, 'padding', args.padding ?? 0, 0);
  const dilation = size2d(op, 'dilation', args.dilation ?? 1, 1);
  const [B, , H, W] = x.shape as [number, number, number, number];
  const [hp, wp] = [H + 2 * padding[0], W + 2 * padding[1]];
  const ho = Math.floor((hp - dilation[0] * (kh - 1) - 1) / stride[0]) + 1;
  const wo = Math.floor((wp - dilation[1] * (kw - 1) - 1) / stride[1]) + 1;
  if (ho < 1 || wo < 1) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: input ${H} x ${W} with padding ${fmt(padding)} is smaller than the dilated kernel ${kh} x ${kw} (dilation ${fmt(dilation)})`,
    );
  }
  const L = ho * wo;
  const taps = kh * kw;
  return tidy(() => {
    const padded = padding[0] || padding[1] ? pad(x, [padding[1], padding[1], padding[0], padding[0]]) : x;
    const indices = x.device.tensor(windowIndices([ho, wo], [kh, kw], wp, stride, dilation), [L * taps], {
      dtype: 'i32',
    });
    const cols = indexSelect(padded.reshape([B, channels, hp * wp]), 2, indices) // [B, C, L·taps]
      .reshape([B, channels, L, taps])
      .permute([0, 2, 1, 3]) // [B, L, C, taps]
      .reshape([B, L, channels * taps]);
    const y = linear(cols, weight.reshape([out, channels * taps]), bias); // [B, L, out]
    return y.permute([0, 2, 1]).reshape([B, out, ho, wo]);
  });
}

export interface Conv2dOptions extends Conv2dArgs {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default: the global generator, see `manualSeed`). */
  seed?: number;
}

/**
 * PyTorch `nn.Conv2d` (groups 1): `weight` [outChannels, inChannels, kh, kw] and `bias` [outChannels], both
 * uniform in ±1/sqrt(inChannels·kh·kw) (PyTorch's kaiming_uniform_(a=√5) default), so a PyTorch state dict
 * loads as it is.
 */
export class Conv2d extends WeightBiasLayer {
  readonly kernelSize: [number, number];
  readonly args: Required<Conv2dArgs>;

  constructor(
    device: Device,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2d,
    opts: Conv2dOptions = {},
  ) {
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    const [kh, kw] = size2d('Conv2d', 'kernelSize', kernelSize, 1);
    const args = {
      stride: size2d('Conv2d', 'stride', opts.stride ?? 1, 1),
      padding: size2d('Conv2d', 'padding', opts.padding ?? 0, 0),
      dilation: size2d('Conv2d', 'dilation', opts.dilation ?? 1, 1),
    };
    super(device, [outChannels, inChannels, kh, kw], inChannels * kh * kw, opts);
    this.kernelSize = [kh, kw];
    this.args = args;
  }

  /** x [B, inChannels, H, W] -> [B, outChannels, Ho, Wo] */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.args);
  }
}
