/**
 * From any audio to what the spectrogram transformer reads: the spoken-digit dataset's clip pipeline
 * (mono, silence trimmed at -40 dB of the peak with 20 ms margins, 16 kHz; data/digit-clips.ts), the clip
 * placed in a fixed window (centered, or where training puts it), and the window's log-mel frames on the
 * device (`logMelSpectrogram`) of the window scaled to peak 1, floored `floorBelowMax` log10 units under the
 * example's peak and scaled to [-1, 1] against that peak, so the features do not depend on the level.
 *
 * With `clipMeanNormalized`, each frame also carries the same log-mel minus its bin's mean over the clip's
 * own frames (cepstral mean normalization done on the log-mel: a fixed filter, a microphone, a telephone
 * line or a voice's overall timbre add a constant per bin, which this removes), -1 outside the clip.
 * docs/decisions.md ("Audio tasks") has the measurements that chose it.
 */
import {
  abs,
  add,
  concat,
  type Device,
  div,
  max,
  maximum,
  mul,
  sub,
  sum,
  type Tensor,
  tidy,
} from '@multihead/core';
import { logMelSpectrogram } from '../features/log-mel.js';
import { type AudioClip, toMono, trimSilence } from '../io/clip.js';
import { invalidArgument } from '../io/errors.js';
import { resample } from '../io/resample.js';

export interface ClipFeatureConfig {
  /** Rate the clips are resampled to (Hz). */
  sampleRate: number;
  /** Samples of the window a clip is placed in. */
  windowSamples: number;
  nFft: number;
  hopLength: number;
  nMels: number;
  /** Mel filter bank edges (Hz): 4 kHz keeps only what an 8 kHz telephone recording carries. */
  fMin: number;
  fMax: number;
  /** Log10 units kept under the example's peak (8 = 80 dB, Whisper's). */
  floorBelowMax: number;
  /** Add the clip-mean-normalized log-mel beside the log-mel (frames of 2 x nMels values). */
  clipMeanNormalized: boolean;
}

/** Values per frame: nMels, or twice that with the clip-mean-normalized copy. */
export const frameWidth = (cfg: ClipFeatureConfig): number => (cfg.clipMeanNormalized ? 2 : 1) * cfg.nMels;

/** Where a clip sits in its window (samples), as `placeInWindow` returns it. */
export interface ClipSpan {
  offset: number;
  length: number;
}

/** The frames whose centers fall inside the clip (frame t is centered on sample t * hop, torch.stft's center). */
export function spanFrames(cfg: ClipFeatureConfig, span: ClipSpan): { first: number; count: number } {
  const frames = windowFrames(cfg);
  const first = Math.min(frames - 1, Math.ceil(span.offset / cfg.hopLength));
  const last = Math.min(frames - 1, Math.floor((span.offset + Math.max(1, span.length) - 1) / cfg.hopLength));
  return { first, count: Math.max(1, last - first + 1) };
}

/** Frames of a window: torch.stft's 1 + L / hop with center padding, the last dropped as Whisper does. */
export const windowFrames = (cfg: ClipFeatureConfig): number => Math.floor(cfg.windowSamples / cfg.hopLength);

/** The dataset's trimming (data/digit-clips.ts): 1% of the peak, 20 ms kept on each side. */
const TRIM_RELATIVE = 0.01;
const TRIM_MARGIN_SECONDS = 0.02;

/** Any clip as the digit datasets hold theirs: mono, trimmed of silence, at `sampleRate`. */
export function prepareClip(clip: AudioClip, sampleRate: number, who: string): Float32Array {
  const mono = toMono(clip);
  let peak = 0;
  for (const x of mono) {
    if (!Number.isFinite(x)) invalidArgument(`${who}: the audio holds ${x}; expected finite samples`);
    peak = Math.max(peak, Math.abs(x));
  }
  if (peak === 0) invalidArgument(`${who}: the audio is silent (every sample is 0)`);
  const trimmed = trimSilence(mono, {
    threshold: peak * TRIM_RELATIVE,
    margin: Math.round(TRIM_MARGIN_SECONDS * clip.sampleRate),
  });
  return resample(trimmed.slice(), clip.sampleRate, sampleRate);
}

/** Start of the loudest `length` samples of `samples` (the clip's part that a window keeps). */
export function loudestStart(samples: Float32Array, length: number): number {
  if (samples.length <= length) return 0;
  let energy = 0;
  for (let i = 0; i < length; i++) energy += samples[i]! ** 2;
  let best = energy;
  let start = 0;
  for (let i = length; i < samples.length; i++) {
    energy += samples[i]! ** 2 - samples[i - length]! ** 2;
    if (energy > best) [best, start] = [energy, i - length + 1];
  }
  return start;
}

/**
 * The clip in a window of `windowSamples` zeros: its loudest window when longer, else placed at
 * `position` (a fraction of the free room: 0.5 centers it, training draws it). Returns where it went.
 */
export function placeInWindow(
  samples: Float32Array,
  windowSamples: number,
  position = 0.5,
): { window: Float32Array; offset: number; length: number } {
  const window = new Float32Array(windowSamples);
  if (samples.length >= windowSamples) {
    const start = loudestStart(samples, windowSamples);
    window.set(samples.subarray(start, start + windowSamples));
    return { window, offset: 0, length: windowSamples };
  }
  const offset = Math.floor((windowSamples - samples.length) * Math.min(1, Math.max(0, position)));
  window.set(samples, offset);
  return { window, offset, length: samples.length };
}

/**
 * Windows `[count * windowSamples]` -> features `[count, frames, frameWidth]` on `device`: log10 mel
 * power floored at (peak - floorBelowMax), then (x - peak) / (floorBelowMax / 2) + 1; with
 * `clipMeanNormalized`, the clip-mean-normalized copy after it (the clips' `spans` are then needed).
 * `binGainsDb` `[count * nMels]` (training's random equalizer, preprocess/augment.ts) is added to each
 * example's log-mel bins before the peak is taken; values pushed under the floor are clamped to it.
 */
export function clipFeatures(
  device: Device,
  windows: Float32Array,
  count: number,
  cfg: ClipFeatureConfig,
  spans?: readonly ClipSpan[],
  binGainsDb?: Float32Array,
): Tensor {
  if (windows.length !== count * cfg.windowSamples) {
    invalidArgument(
      `clipFeatures: ${windows.length} samples; expected ${count} windows of ${cfg.windowSamples}`,
    );
  }
  if (cfg.clipMeanNormalized && spans?.length !== count) {
    invalidArgument(
      `clipFeatures: ${spans?.length ?? 'no'} clip spans; expected ${count} (clipMeanNormalized)`,
    );
  }
  if (binGainsDb !== undefined && binGainsDb.length !== count * cfg.nMels) {
    invalidArgument(
      `clipFeatures: binGainsDb has ${binGainsDb.length} values; expected ${count} x ${cfg.nMels} mel bins`,
    );
  }
  const frames = windowFrames(cfg);
  return tidy(() => {
    const raw = device.tensor(windows, [count, cfg.windowSamples]);
    // each window at peak 1 first, so the log's absolute clamp (1e-10) never rises above the floor
    const signal = div(raw, add(max(abs(raw), 1, { keepdim: true }), 1e-12));
    const logMel = logMelSpectrogram(signal, {
      sampleRate: cfg.sampleRate,
      nFft: cfg.nFft,
      hopLength: cfg.hopLength,
      nMels: cfg.nMels,
      fMin: cfg.fMin,
      fMax: cfg.fMax,
      floorBelowMax: cfg.floorBelowMax,
      layout: 'time-first',
    }).slice(1, 0, frames); // [B, frames, nMels]
    const equalized =
      binGainsDb === undefined
        ? logMel
        : add(
            logMel,
            device.tensor(
              binGainsDb.map((db) => db / 10),
              [count, 1, cfg.nMels],
            ),
          ); // dB -> log10
    const peak = max(equalized, [1, 2], { keepdim: true }); // [B, 1, 1]
    const rescaled = add(mul(sub(equalized, peak), 2 / cfg.floorBelowMax), 1);
    const scaled = binGainsDb === undefined ? rescaled : maximum(rescaled, -1);
    if (!cfg.clipMeanNormalized) return scaled.contiguous();
    const inside = new Float32Array(count * frames); // 1 on the clip's frames
    spans!.forEach((span, b) => {
      const { first, count: n } = spanFrames(cfg, span);
      inside.fill(1, b * frames + first, b * frames + first + n);
    });
    const mask = device.tensor(inside, [count, frames, 1]);
    const clipMean = mul(
      sum(mul(scaled, mask), 1, { keepdim: true }),
      device.tensor(
        Float32Array.from(spans!, (span) => 1 / spanFrames(cfg, span).count),
        [count, 1, 1],
      ),
    ); // [B, 1, nMels]
    // (x - mean) on the clip's frames, -1 elsewhere
    const normalized = sub(mul(add(sub(scaled, clipMean), 1), mask), 1);
    return concat([scaled, normalized], 2).contiguous(); // [B, frames, 2 * nMels]
  });
}

/** Labels of the tokens of a window: the start of each token's frames, in seconds ('0.12s'). */
export function tokenTimes(cfg: ClipFeatureConfig, frameStride: number): string[] {
  const tokens = windowFrames(cfg) / frameStride;
  return Array.from(
    { length: tokens },
    (_, t) => `${((t * frameStride * cfg.hopLength) / cfg.sampleRate).toFixed(2)}s`,
  );
}
