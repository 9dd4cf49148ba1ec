/**
 * Count models of quantized images in raster order, the bars an autoregressive image model must clear:
 * - `PixelHistogram`: every pixel independent, P(v | position), add-alpha smoothed;
 * - `NeighbourCounts`: P(v | left neighbour, upper neighbour), interpolated toward the pixel's histogram
 *   (a Dirichlet prior whose mean is the histogram, strength tuned on held-out training images), with
 *   "outside the image" as a neighbour value of its own.
 * NLL in bits per pixel.
 */
import { invalidArgument } from '../preprocess/errors.js';

export class PixelHistogram {
  private readonly counts: Float64Array;
  private readonly totals: Float64Array;

  constructor(
    readonly pixels: number,
    readonly levels: number,
    readonly alpha = 1,
  ) {
    this.counts = new Float64Array(pixels * levels);
    this.totals = new Float64Array(pixels);
  }

  /** Adds `count` images of `pixels` tokens each. */
  add(tokens: Uint8Array, count: number): this {
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < this.pixels; p++) {
        this.counts[p * this.levels + tokens[n * this.pixels + p]!]!++;
        this.totals[p]!++;
      }
    }
    return this;
  }

  probability(position: number, value: number): number {
    return (
      (this.counts[position * this.levels + value]! + this.alpha) /
      (this.totals[position]! + this.alpha * this.levels)
    );
  }

  /** Summed NLL (bits) of `count` images. */
  nll(tokens: Uint8Array, count: number): number {
    let bits = 0;
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < this.pixels; p++)
        bits -= Math.log2(this.probability(p, tokens[n * this.pixels + p]!));
    }
    return bits;
  }
}

/** Strengths tried for the neighbour model's prior. */
const STRENGTHS = [0.1, 0.3, 1, 3, 10, 30];

export class NeighbourCounts {
  private readonly counts: Float64Array;
  private readonly totals: Float64Array;
  strength = 1;

  constructor(
    readonly side: number,
    readonly levels: number,
    readonly histogram: PixelHistogram,
  ) {
    const contexts = (levels + 1) * (levels + 1);
    this.counts = new Float64Array(contexts * levels);
    this.totals = new Float64Array(contexts);
  }

  /** The context of pixel p: (left, up), `levels` standing for "outside the image". */
  private context(image: Uint8Array, offset: number, p: number): number {
    const [y, x] = [Math.floor(p / this.side), p % this.side];
    const left = x > 0 ? image[offset + p - 1]! : this.levels;
    const up = y > 0 ? image[offset + p - this.side]! : this.levels;
    return left * (this.levels + 1) + up;
  }

  add(tokens: Uint8Array, count: number): this {
    const pixels = this.side * this.side;
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < pixels; p++) {
        const c = this.context(tokens, n * pixels, p);
        this.counts[c * this.levels + tokens[n * pixels + p]!]!++;
        this.totals[c]!++;
      }
    }
    return this;
  }

  nll(tokens: Uint8Array, count: number): number {
    const pixels = this.side * this.side;
    let bits = 0;
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < pixels; p++) {
        const v = tokens[n * pixels + p]!;
        const c = this.context(tokens, n * pixels, p);
        const prior = this.histogram.probability(p, v);
        bits -= Math.log2(
          (this.counts[c * this.levels + v]! + this.strength * prior) / (this.totals[c]! + this.strength),
        );
      }
    }
    return bits;
  }
}

/**
 * Both baselines fitted on `count` training images: the neighbour model's prior strength chosen on the last
 * tenth of them (counts from the rest), then both counted on all of them.
 */
export function fitPixelBaselines(tokens: Uint8Array, count: number, side: number, levels: number) {
  if (tokens.length !== count * side * side)
    invalidArgument(`fitPixelBaselines: ${tokens.length} tokens for ${count} images of ${side} x ${side}`);
  const pixels = side * side;
  const cut = Math.max(1, Math.floor(count * 0.9));
  const held = tokens.subarray(cut * pixels);
  const fitHist = new PixelHistogram(pixels, levels).add(tokens, cut);
  const fitNeighbours = new NeighbourCounts(side, levels, fitHist).add(tokens, cut);
  let best = Number.POSITIVE_INFINITY;
  let strength = 1;
  for (const s of STRENGTHS) {
    fitNeighbours.strength = s;
    const bits = fitNeighbours.nll(held, count - cut);
    if (bits < best) [best, strength] = [bits, s];
  }
  const histogram = new PixelHistogram(pixels, levels).add(tokens, count);
  const neighbours = new NeighbourCounts(side, levels, histogram).add(tokens, count);
  neighbours.strength = strength;
  return { histogram, neighbours };
}
