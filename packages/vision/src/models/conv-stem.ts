/**
 * A convolutional stem in place of the patchify stem (Xiao et al. 2021, "Early convolutions help
 * transformers see better"): a few 3 x 3 convolutions, most with stride 2, then a 1 x 1 convolution to the
 * token width. torchvision builds the same from `VisionTransformer(conv_stem_configs=[ConvStemConfig(...)])`
 * and the state-dict names follow it:
 *
 *   conv_proj.conv_bn_relu_<i>.0.weight [out_i, in_i, k_i, k_i], .0.bias [out_i]   (Conv2dNormActivation's conv;
 *                                                                                    child 1 its activation)
 *   conv_proj.conv_last.weight [D, out_last, 1, 1], .bias [D]
 *
 * Each convolution pads (k - 1) / 2 (Conv2dNormActivation's default), so a stride-s layer maps a side n to
 * ceil(n / s). Differences from torchvision, by choice (docs/decisions.md "vision: a convolutional stem"):
 * no normalization layer (torchvision's default BatchNorm2d; `norm_layer=None` there gives this stem, with
 * conv biases), and sides that the total stride does not divide are allowed (28 -> 14 -> 7 -> 4), where
 * torchvision asserts image_size % patch_size == 0.
 */
import { type Device, gelu, MultiheadError, nn, randn, relu, type Tensor, tidy } from '@multihead/core';
import { overwrite } from './vit-config.js';

export interface ConvStemLayer {
  /** Output channels of this convolution. */
  outChannels: number;
  /** Side of its square kernel (odd; default 3). */
  kernelSize?: number;
  /** Its stride (default 2). */
  stride?: number;
  /** The activation after it (default 'relu', torchvision's). */
  activation?: 'relu' | 'gelu';
}

const activations = { relu, gelu } as const;

/** The side after one stem convolution: padding (k - 1) / 2, so ceil(n / stride) for odd k. */
export const stemSide = (n: number, kernel: number, stride: number): number =>
  Math.floor((n + 2 * Math.floor((kernel - 1) / 2) - kernel) / stride) + 1;

/** Conv2dNormActivation without a norm: child `0` the convolution (child `1`, the activation, has no weights). */
class ConvActivation extends nn.Module {
  readonly conv: nn.Conv2d;

  constructor(
    device: Device,
    inChannels: number,
    readonly layer: Required<ConvStemLayer>,
    seed: number,
  ) {
    super(device);
    const k = layer.kernelSize;
    this.conv = this.registerModule(
      '0',
      new nn.Conv2d(device, inChannels, layer.outChannels, k, {
        stride: layer.stride,
        padding: Math.floor((k - 1) / 2),
        seed,
      }),
    );
  }

  forward(x: Tensor): Tensor {
    return tidy(() => activations[this.layer.activation](this.conv.forward(x)));
  }
}

export interface ConvStemOptions {
  channels: number;
  hiddenDim: number;
  layers: readonly ConvStemLayer[];
  seed: number;
}

export class ConvStem extends nn.Module {
  readonly blocks: ConvActivation[];
  readonly conv_last: nn.Conv2d;

  constructor(device: Device, opts: ConvStemOptions) {
    super(device);
    let inChannels = opts.channels;
    this.blocks = resolveStemLayers(opts.layers).map((layer, i) => {
      const block = new ConvActivation(device, inChannels, layer, opts.seed + 7919 * (i + 1));
      inChannels = layer.outChannels;
      return this.registerModule(`conv_bn_relu_${i}`, block);
    });
    this.conv_last = this.registerModule(
      'conv_last',
      new nn.Conv2d(device, inChannels, opts.hiddenDim, 1, { seed: opts.seed }),
    );
    // torchvision: normal_(conv_last.weight, std = sqrt(2 / out_channels)), zeros_(conv_last.bias)
    const w = this.conv_last.weight;
    overwrite(w, randn(device, w.shape, { seed: opts.seed + 1, std: Math.sqrt(2 / opts.hiddenDim) }));
    overwrite(this.conv_last.bias!, device.zeros([opts.hiddenDim]));
  }

  /** The token grid [gh, gw] of an H x W image. */
  grid(height: number, width: number): [number, number] {
    let [h, w] = [height, width];
    for (const b of this.blocks) {
      h = stemSide(h, b.layer.kernelSize, b.layer.stride);
      w = stemSide(w, b.layer.kernelSize, b.layer.stride);
    }
    return [h, w];
  }

  /** images [B, C, H, W] -> tokens [B, gh·gw, D], row-major over the grid (as torchvision flattens). */
  forward(images: Tensor): Tensor {
    return tidy(() => {
      let x = images;
      for (const b of this.blocks) x = b.forward(x);
      const y = this.conv_last.forward(x); // [B, D, gh, gw]
      const [B, D, gh, gw] = y.shape as [number, number, number, number];
      return y.reshape([B, D, gh * gw]).permute([0, 2, 1]);
    });
  }
}

/** Defaults filled in and every field checked (kernels odd, so the padding centres them). */
export function resolveStemLayers(layers: readonly ConvStemLayer[]): Required<ConvStemLayer>[] {
  return layers.map((l, i) => {
    const layer = { kernelSize: 3, stride: 2, activation: 'relu' as const, ...l };
    const ok =
      Number.isInteger(layer.outChannels) &&
      layer.outChannels > 0 &&
      Number.isInteger(layer.kernelSize) &&
      layer.kernelSize % 2 === 1 &&
      Number.isInteger(layer.stride) &&
      layer.stride > 0 &&
      layer.activation in activations;
    if (!ok) {
      throw new MultiheadError(
        'INVALID_ARGUMENT',
        `VisionTransformer: config.convStem[${i}] ${JSON.stringify(l)} needs a positive integer outChannels, an odd kernelSize, a positive integer stride and activation 'relu' or 'gelu'`,
      );
    }
    return layer;
  });
}
