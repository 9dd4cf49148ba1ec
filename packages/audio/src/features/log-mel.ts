import {
  add,
  type Device,
  log,
  matmul,
  max,
  maximum,
  mul,
  pad,
  sub,
  type Tensor,
  tidy,
} from '@multihead/core';
import { melFilterBank, resolveMelOptions } from './mel.js';
import {
  frameCount,
  type MatmulPlan,
  matmulPlan,
  resolveStftOptions,
  roundUp4,
  type SpectrogramLayout,
} from './plan.js';
import {
  type LogMelOptions,
  resolveLogOptions,
  resolveWhisperOptions,
  WHISPER,
  type WhisperOptions,
  whisperFrames,
} from './reference.js';
import { arrange, checkSignal, framewise, powerOf } from './stft.js';

/**
 * Log-mel spectrograms on a device, and Whisper's preset. The pipeline (frames -> |DFT|^2 -> mel -> log10)
 * sits behind `LogMelKernel`: today one implementation made of core's matmul and elementwise ops serves
 * both backends; a fused WGSL kernel or a wasm kernel can take the same plan and replace it per device
 * (docs/decisions.md: what a fused kernel needs). The per-example floor and Whisper's affine run after it.
 */

/** Everything a log-mel kernel needs, as plain data. */
export interface LogMelPlan {
  stft: MatmulPlan;
  nMels: number;
  /** nMels rounded up to 4 (core's fast matmul wants row strides divisible by 4). */
  melStride: number;
  /** The mel filter bank transposed and zero-padded: `[stft.freqStride, melStride]` row-major, f32. */
  filtersT: Float32Array<ArrayBuffer>;
  power: 1 | 2;
  clampMin: number;
}

/**
 * `[B, L]` f32 signal -> `[B, frames, nMels]` of log10(max(mel, clampMin)) for frames [0, frames) (fewer
 * than the signal has when a caller drops trailing frames, as Whisper does). Call inside `tidy`.
 */
export type LogMelKernel = (rows: Tensor, plan: LogMelPlan, frames: number) => Tensor;

const LOG10_E = Math.LOG10E; // log10(x) = ln(x) * log10(e)

/** The kernel every backend runs today: core's gather, matmul and elementwise ops. */
export const matmulLogMel: LogMelKernel = (rows, plan, frames) => {
  const filters = rows.device.tensor(plan.filtersT, [plan.stft.freqStride, plan.melStride]);
  const mels = framewise(rows, plan.stft, frames, (spectrum) => {
    const power = powerOf(spectrum, plan.stft.freqStride, plan.power); // [rows, freqStride]
    const mel = matmul(power, filters); // [rows, melStride]
    return mul(log(maximum(mel, plan.clampMin)), LOG10_E);
  });
  return plan.melStride === plan.nMels ? mels : mels.slice(2, 0, plan.nMels);
};

/** Which kernel runs the pipeline on `device`: the matmul path on both backends until fused kernels exist. */
export function logMelKernelFor(_device: Device): LogMelKernel {
  return matmulLogMel;
}

const filterCache = new Map<string, Float32Array<ArrayBuffer>>();
const MAX_CACHED_FILTERS = 16;

function transposedFilters(
  mel: ReturnType<typeof resolveMelOptions>,
  freqStride: number,
  melStride: number,
): Float32Array<ArrayBuffer> {
  const key = `${mel.sampleRate}:${mel.nFft}:${mel.nMels}:${mel.fMin}:${mel.fMax}`;
  const cached = filterCache.get(key);
  if (cached) return cached;
  const nFreq = Math.floor(mel.nFft / 2) + 1;
  const bank = melFilterBank(mel); // [nMels, nFreq]
  const out = new Float32Array(freqStride * melStride);
  for (let m = 0; m < mel.nMels; m++) {
    for (let f = 0; f < nFreq; f++) out[f * melStride + m] = bank[m * nFreq + f]!;
  }
  if (filterCache.size >= MAX_CACHED_FILTERS) filterCache.delete(filterCache.keys().next().value!);
  filterCache.set(key, out);
  return out;
}

function logMelPlan(fn: string, opts: LogMelOptions) {
  const config = resolveStftOptions(fn, opts);
  const mel = resolveMelOptions(fn, opts);
  const { power, clampMin, floorBelowMax } = resolveLogOptions(fn, opts);
  const stft = matmulPlan(config);
  const melStride = roundUp4(mel.nMels);
  const plan: LogMelPlan = {
    stft,
    nMels: mel.nMels,
    melStride,
    filtersT: transposedFilters(mel, stft.freqStride, melStride),
    power,
    clampMin,
  };
  return { plan, floorBelowMax };
}

/** Raises each example's values to its own max - floor (`[B, frames, nMels]`). Call inside `tidy`. */
function floorBelowExampleMax(x: Tensor, floor: number): Tensor {
  const largest = max(x, [1, 2], { keepdim: true }); // [B, 1, 1]
  return maximum(x, sub(largest, floor));
}

/**
 * log10(max(mel @ |stft|^power, clampMin)), with the mel filter bank of `melFilterBank` and the STFT of
 * `stft`; `floorBelowMax` raises each example's values to its max minus that many log10 units.
 * `[B?, nMels, frames]`, or `[B?, frames, nMels]` with layout 'time-first' (one token per frame).
 */
export function logMelSpectrogram(signal: Tensor, opts: LogMelOptions): Tensor {
  const fn = 'logMelSpectrogram';
  const { rows, batched, length } = checkSignal(fn, signal);
  const { plan, floorBelowMax } = logMelPlan(fn, opts);
  const frames = frameCount(fn, plan.stft.config, length);
  return tidy(() => {
    const x = rows();
    const logMel = logMelKernelFor(x.device)(x, plan, frames);
    const floored = floorBelowMax === null ? logMel : floorBelowExampleMax(logMel, floorBelowMax);
    return arrange(floored, plan.stft.config.layout, batched);
  });
}

/**
 * Whisper's `log_mel_spectrogram(audio, n_mels, padding)` (openai/whisper whisper/audio.py) on 16 kHz
 * audio: n_fft 400, hop 160, the last STFT frame dropped, |X|^2, Slaney mel filters, log10(clamp(min=1e-10)),
 * floored at max - 8, (x + 4) / 4. `[B?, nMels, (L + padding) / 160]` (Whisper's layout; 'time-first' gives
 * `[B?, frames, nMels]`). In a batch each example gets its own max, as if Whisper ran on each clip alone
 * (Whisper's function takes one global max over whatever batch it is given).
 */
export function whisperLogMel(
  signal: Tensor,
  opts: WhisperOptions & { layout?: SpectrogramLayout } = {},
): Tensor {
  const fn = 'whisperLogMel';
  const { nMels, padding } = resolveWhisperOptions(fn, opts);
  const { rows, batched, length } = checkSignal(fn, signal);
  const { sampleRate, nFft, hopLength, floorBelowMax } = WHISPER;
  const layout = opts.layout ?? 'frequency-first';
  const { plan } = logMelPlan(fn, { sampleRate, nFft, hopLength, nMels, layout });
  // stft[..., :-1]: the last frame never enters the max, so it is never computed
  const frames = whisperFrames(fn, length, padding);
  return tidy(() => {
    const x = padding > 0 ? pad(rows(), [0, padding]) : rows();
    const logMel = logMelKernelFor(x.device)(x, plan, frames);
    const scaled = mul(add(floorBelowExampleMax(logMel, floorBelowMax), 4), 0.25); // (x + 4) / 4
    return arrange(scaled, layout, batched);
  });
}
