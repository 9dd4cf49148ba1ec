import { checkInteger, checkOneOf, describe, invalidArgument } from './arguments.js';
import { hannWindow, windowOffset } from './window.js';

/**
 * STFT options and the host-side constants every implementation shares: torch.stft's framing (center
 * with reflect padding, the window centered in nFft), the frame count, and the window-folded DFT basis
 * of the matmul path. Plain data, so a fused kernel can take the same plan.
 */

/** `'frequency-first'`: [..., bins, frames] (torch.stft, Whisper); `'time-first'`: [..., frames, bins] (one token per frame). */
export type SpectrogramLayout = 'frequency-first' | 'time-first';

export interface StftOptions {
  /** FFT size; the one-sided spectrum has nFft / 2 + 1 bins. */
  nFft: number;
  /** Samples between frame starts (default floor(nFft / 4), torch's). */
  hopLength?: number;
  /** Samples of the Hann window (default nFft); a shorter window is zero-padded to nFft, centered. */
  winLength?: number;
  /** Pad nFft / 2 samples on both sides by reflection so frame t is centered at t * hop (default true). */
  center?: boolean;
  /** Output layout (default 'frequency-first'). */
  layout?: SpectrogramLayout;
}

export interface StftConfig {
  nFft: number;
  hopLength: number;
  winLength: number;
  center: boolean;
  layout: SpectrogramLayout;
  /** nFft / 2 + 1. */
  nFreq: number;
}

export function resolveStftOptions(fn: string, opts: StftOptions): StftConfig {
  if (typeof opts !== 'object' || opts === null)
    invalidArgument(`${fn}: options must be an object with nFft`);
  const nFft = checkInteger(fn, 'nFft', opts.nFft, 2);
  const hopLength = checkInteger(fn, 'hopLength', opts.hopLength ?? Math.max(1, Math.floor(nFft / 4)), 1);
  const winLength = checkInteger(fn, 'winLength', opts.winLength ?? nFft, 1);
  if (winLength > nFft) invalidArgument(`${fn}: winLength is ${winLength}; expected at most nFft = ${nFft}`);
  const center = opts.center ?? true;
  if (typeof center !== 'boolean')
    invalidArgument(`${fn}: center is ${describe(center)}; expected a boolean`);
  const layout = checkOneOf<SpectrogramLayout>(fn, 'layout', opts.layout ?? 'frequency-first', [
    'frequency-first',
    'time-first',
  ]);
  return { nFft, hopLength, winLength, center, layout, nFreq: Math.floor(nFft / 2) + 1 };
}

/** Samples of reflect padding on each side (torch.stft: nFft / 2 with center, none without). */
export function padding(config: StftConfig): number {
  return config.center ? Math.floor(config.nFft / 2) : 0;
}

/**
 * Frames of a signal of `length` samples, after checking it is long enough: torch.stft refuses reflect
 * padding as long as the signal or longer, and a signal shorter than one frame without center.
 */
export function frameCount(fn: string, config: StftConfig, length: number): number {
  const pad = padding(config);
  if (config.center && length <= pad) {
    invalidArgument(
      `${fn}: signal has ${length} samples; center reflect padding of nFft / 2 = ${pad} needs more than ${pad} ` +
        `(torch.stft refuses the same: reflect padding must be smaller than the input)`,
    );
  }
  if (!config.center && length < config.nFft) {
    invalidArgument(
      `${fn}: signal has ${length} samples; expected at least nFft = ${config.nFft} with center: false`,
    );
  }
  return 1 + Math.floor((length + 2 * pad - config.nFft) / config.hopLength);
}

/**
 * Index into the unpadded signal of position `i` of the reflect-padded one (numpy/torch 'reflect': the edge
 * sample is not repeated, x[-1] = x[1]). One reflection suffices because the padding is shorter than the signal.
 */
export function reflectIndex(i: number, length: number): number {
  if (i < 0) return -i;
  if (i >= length) return 2 * (length - 1) - i;
  return i;
}

/** `n` rounded up to a multiple of 4: core's fast matmul wants K, and row strides, divisible by 4. */
export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * The matmul path's constants. Only the winLength samples under the window are gathered (the zero-padded
 * rest of the frame contributes nothing), padded to `taps` = a multiple of 4 with zero basis rows.
 * `basis` is `[taps, 2 * freqStride]` row-major: columns [0, nFreq) hold w[n] cos(2 pi f n / nFft) and
 * [freqStride, freqStride + nFreq) hold -w[n] sin(2 pi f n / nFft) (n = the tap's position in the nFft
 * frame), so frames @ basis is the real and imaginary part of torch.stft's one-sided spectrum. The rest is 0.
 */
export interface MatmulPlan {
  config: StftConfig;
  taps: number;
  freqStride: number;
  basis: Float32Array<ArrayBuffer>;
}

const plans = new Map<string, MatmulPlan>();
const MAX_CACHED_PLANS = 16;

export function matmulPlan(config: StftConfig): MatmulPlan {
  const key = `${config.nFft}:${config.winLength}`;
  const cached = plans.get(key);
  if (cached) return { ...cached, config };
  const { nFft, winLength, nFreq } = config;
  const taps = roundUp4(winLength);
  const freqStride = roundUp4(nFreq);
  const window = hannWindow(winLength);
  const offset = windowOffset(nFft, winLength);
  const basis = new Float32Array(taps * 2 * freqStride);
  for (let j = 0; j < winLength; j++) {
    const n = offset + j;
    for (let f = 0; f < nFreq; f++) {
      // (f * n) mod nFft keeps the angle in [0, 2 pi): exact arguments to cos and sin
      const angle = (2 * Math.PI * ((f * n) % nFft)) / nFft;
      basis[j * 2 * freqStride + f] = window[j]! * Math.cos(angle);
      basis[j * 2 * freqStride + freqStride + f] = -window[j]! * Math.sin(angle);
    }
  }
  const plan = { config, taps, freqStride, basis };
  if (plans.size >= MAX_CACHED_PLANS) plans.delete(plans.keys().next().value!);
  plans.set(key, plan);
  return plan;
}

/**
 * Gather indices `[count, taps]` for frames [first, first + count) of a signal of `length` samples: tap j of
 * frame t reads sample reflect(t * hop - pad + offset + j). Taps past the window read the frame's first
 * window sample (their basis rows are zero).
 */
export function frameIndices(
  plan: MatmulPlan,
  length: number,
  first: number,
  count: number,
): Int32Array<ArrayBuffer> {
  const { hopLength, nFft, winLength } = plan.config;
  const start0 = windowOffset(nFft, winLength) - padding(plan.config);
  const out = new Int32Array(count * plan.taps);
  for (let t = 0; t < count; t++) {
    const start = (first + t) * hopLength + start0;
    for (let j = 0; j < plan.taps; j++) {
      out[t * plan.taps + j] = reflectIndex(j < winLength ? start + j : start, length);
    }
  }
  return out;
}
