/**
 * The ViT patchify stem (Dosovitskiy et al. 2021, §3.1): cut an image into non-overlapping p × p patches and
 * project each to `hiddenDim`. PyTorch writes it as `nn.Conv2d(C, D, kernel_size=p, stride=p)`; here it is the
 * same arithmetic as one matmul, which is all a stride-p convolution with a p × p kernel is:
 *
 *   images [B, C, H, W] -> [B, C, gh, p, gw, p] -> permute -> [B, gh, gw, C, p, p] -> [B, N, C·p·p]
 *   tokens = patches @ weight.reshape(D, C·p·p)ᵀ + bias                                  [B, N, D]
 *
 * Patches come out row-major over the grid (n = i·gw + j), as torchvision's `_process_input` flattens the
 * conv output. The parameters keep the convolution's names and shapes (`weight` [D, C, p, p], `bias` [D]),
 * so a torchvision `conv_proj.*` loads as is; the matmul reads `weight` through a reshape view, so its
 * gradient lands on the [D, C, p, p] parameter.
 */
import { type Device, MultiheadError, nn, randn, type Tensor, tidy } from '@multihead/core';

export interface PatchEmbeddingOptions {
  /** Input channels C (1 for grayscale, 3 for RGB). */
  channels: number;
  /** Output width D. */
  hiddenDim: number;
  /** Side p of the square patches (the convolution's kernel and stride). */
  patchSize: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

const positiveInt = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 1)
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      `PatchEmbedding: ${name} must be a positive integer, got ${v}`,
    );
};

export class PatchEmbedding extends nn.Module {
  readonly channels: number;
  readonly hiddenDim: number;
  readonly patchSize: number;

  constructor(device: Device, opts: PatchEmbeddingOptions) {
    super(device);
    positiveInt('channels', opts.channels);
    positiveInt('hiddenDim', opts.hiddenDim);
    positiveInt('patchSize', opts.patchSize);
    this.channels = opts.channels;
    this.hiddenDim = opts.hiddenDim;
    this.patchSize = opts.patchSize;
    const p = opts.patchSize;
    const fanIn = opts.channels * p * p;
    // torchvision: trunc_normal_(std = sqrt(1 / fan_in)) cut at ±2 (absolute, not in std units). Whenever
    // fan_in >= 4 (any patch side >= 2) the cut lies beyond 4 std, where a normal has under 1e-4 of its
    // mass, so a plain normal stands for it
    const weight = randn(device, [opts.hiddenDim, opts.channels, p, p], {
      seed: opts.seed ?? 0,
      std: Math.sqrt(1 / fanIn),
    });
    this.registerParameter('weight', weight);
    this.registerParameter('bias', device.zeros([opts.hiddenDim])); // torchvision: zeros_
  }

  get weight(): Tensor {
    return this.param('weight')!;
  }

  get bias(): Tensor {
    return this.param('bias')!;
  }

  /** The patch grid [gh, gw] of an H × W image; throws unless p divides both sides. */
  grid(height: number, width: number): [number, number] {
    const p = this.patchSize;
    if (!Number.isInteger(height) || !Number.isInteger(width) || height % p !== 0 || width % p !== 0) {
      throw new MultiheadError(
        'SHAPE_MISMATCH',
        `PatchEmbedding: image ${height} × ${width} is not divisible by patchSize ${p}; resize or crop it to multiples of ${p}`,
      );
    }
    return [height / p, width / p];
  }

  /** images [B, C, H, W] f32 -> tokens [B, gh·gw, D], patches row-major. */
  forward(images: Tensor): Tensor {
    if (images.rank !== 4 || images.shape[1] !== this.channels || images.dtype !== 'f32') {
      throw new MultiheadError(
        'SHAPE_MISMATCH',
        `PatchEmbedding: images are ${images.dtype} [${images.shape.join(', ')}]; expected f32 [B, ${this.channels}, H, W]`,
      );
    }
    const [B, C, H, W] = images.shape as [number, number, number, number];
    const [gh, gw] = this.grid(H, W);
    const p = this.patchSize;
    return tidy(() => {
      const patches = images
        .reshape([B, C, gh, p, gw, p])
        .permute([0, 2, 4, 1, 3, 5]) // [B, gh, gw, C, p, p]
        .reshape([B, gh * gw, C * p * p]); // one copy (reshape of a permuted view)
      return nn.linear(patches, this.weight.reshape([this.hiddenDim, C * p * p]), this.bias); // [B, N, D]
    });
  }
}
