import { describe, invalidArgument } from './arguments.js';
import { type MelFilterBankOptions, melFilterBank, resolveMelOptions } from './mel.js';
import { frameCount, padding, reflectIndex, resolveStftOptions, type StftOptions } from './plan.js';
import { paddedWindow } from './window.js';

/**
 * The plain-TypeScript spectrogram features: float64 throughout, direct sums, no tricks. They are the
 * oracle the device path (stft.ts, log-mel.ts) is tested against and the plain implementation the
 * benchmark compares with. One signal at a time; outputs are `[bins, frames]` (torch.stft's layout),
 * row-major; `layout` options are ignored here.
 */

export interface ReferenceSpectrum {
  /** `[nFreq, frames]`. */
  real: Float64Array;
  imag: Float64Array;
  nFreq: number;
  frames: number;
}

export interface ReferenceSpectrogram {
  /** `[bins, frames]` (bins: nFreq, or nMels after a filter bank). */
  data: Float64Array;
  bins: number;
  frames: number;
}

function checkSignal(fn: string, signal: unknown): Float32Array | Float64Array {
  if (!(signal instanceof Float32Array) && !(signal instanceof Float64Array)) {
    invalidArgument(
      `${fn}: signal is ${describe(signal)}; expected a Float32Array (or Float64Array) of samples`,
    );
  }
  return signal;
}

/**
 * `torch.stft(x, nFft, hop, winLength, window=torch.hann_window(winLength), center, pad_mode='reflect',
 * onesided=True, return_complex=True)`: X[f, t] = sum_n w[n] x_pad[t * hop + n] e^(-2 pi i f n / nFft).
 */
export function stftReference(signal: Float32Array | Float64Array, opts: StftOptions): ReferenceSpectrum {
  const fn = 'stftReference';
  const x = checkSignal(fn, signal);
  const config = resolveStftOptions(fn, opts);
  const { nFft, hopLength, nFreq } = config;
  const frames = frameCount(fn, config, x.length);
  const pad = padding(config);
  const window = paddedWindow(fn, nFft, config.winLength);
  const real = new Float64Array(nFreq * frames);
  const imag = new Float64Array(nFreq * frames);
  const frame = new Float64Array(nFft);
  // cos and sin of 2 pi k / nFft; (f * n) mod nFft indexes them, keeping every angle exact
  const cos = new Float64Array(nFft);
  const sin = new Float64Array(nFft);
  for (let k = 0; k < nFft; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / nFft);
    sin[k] = Math.sin((2 * Math.PI * k) / nFft);
  }
  for (let t = 0; t < frames; t++) {
    for (let n = 0; n < nFft; n++)
      frame[n] = window[n]! * x[reflectIndex(t * hopLength + n - pad, x.length)]!;
    for (let f = 0; f < nFreq; f++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < nFft; n++) {
        const k = (f * n) % nFft;
        re += frame[n]! * cos[k]!;
        im -= frame[n]! * sin[k]!;
      }
      real[f * frames + t] = re;
      imag[f * frames + t] = im;
    }
  }
  return { real, imag, nFreq, frames };
}

export interface SpectrogramOptions extends StftOptions {
  /** 2: power |X|^2 (default); 1: magnitude |X| (torchaudio `Spectrogram(power=...)`). */
  power?: 1 | 2;
}

function checkPower(fn: string, power: unknown): 1 | 2 {
  if (power !== 1 && power !== 2) invalidArgument(`${fn}: power is ${describe(power)}; expected 1 or 2`);
  return power;
}

/** |X|^2 (or |X| with `power: 1`) of `stftReference`, `[nFreq, frames]`. */
export function powerSpectrogramReference(
  signal: Float32Array | Float64Array,
  opts: SpectrogramOptions,
): ReferenceSpectrogram {
  const power = checkPower('powerSpectrogramReference', opts.power ?? 2);
  const { real, imag, nFreq, frames } = stftReference(signal, opts);
  const data = new Float64Array(real.length);
  for (let i = 0; i < data.length; i++) {
    const p = real[i]! * real[i]! + imag[i]! * imag[i]!;
    data[i] = power === 2 ? p : Math.sqrt(p);
  }
  return { data, bins: nFreq, frames };
}

export interface LogMelOptions extends SpectrogramOptions, Omit<MelFilterBankOptions, 'nFft'> {
  /** Mel energies below this are raised to it before the log (default 1e-10, Whisper's). */
  clampMin?: number;
  /**
   * Raise every value to (the example's largest log-mel) - floorBelowMax, in log10 units (Whisper: 8, i.e.
   * 80 dB below the peak). Default: no floor.
   */
  floorBelowMax?: number;
}

/** Checks the log-mel options that the STFT and mel options do not cover. */
export function resolveLogOptions(
  fn: string,
  opts: LogMelOptions,
): { power: 1 | 2; clampMin: number; floorBelowMax: number | null } {
  const power = checkPower(fn, opts.power ?? 2);
  const clampMin = opts.clampMin ?? 1e-10;
  if (typeof clampMin !== 'number' || !(clampMin > 0) || !Number.isFinite(clampMin)) {
    invalidArgument(
      `${fn}: clampMin is ${describe(clampMin)}; expected a finite number > 0 (log of 0 is -inf)`,
    );
  }
  const floor = opts.floorBelowMax ?? null;
  if (floor !== null && (typeof floor !== 'number' || !(floor >= 0) || !Number.isFinite(floor))) {
    invalidArgument(
      `${fn}: floorBelowMax is ${describe(floor)}; expected a finite number >= 0 (log10 units)`,
    );
  }
  return { power, clampMin, floorBelowMax: floor };
}

/** log10(max(mel @ spectrogram, clampMin)), floored at max - floorBelowMax if asked: `[nMels, frames]`. */
export function logMelSpectrogramReference(
  signal: Float32Array | Float64Array,
  opts: LogMelOptions,
): ReferenceSpectrogram {
  const fn = 'logMelSpectrogramReference';
  const { clampMin, floorBelowMax } = resolveLogOptions(fn, opts);
  const mel = resolveMelOptions(fn, opts);
  const filters = melFilterBank(mel);
  const spec = powerSpectrogramReference(signal, opts);
  const { bins: nFreq, frames } = spec;
  const data = new Float64Array(mel.nMels * frames);
  let largest = -Infinity;
  for (let m = 0; m < mel.nMels; m++) {
    for (let t = 0; t < frames; t++) {
      let energy = 0;
      for (let f = 0; f < nFreq; f++) energy += filters[m * nFreq + f]! * spec.data[f * frames + t]!;
      const value = Math.log10(Math.max(energy, clampMin));
      data[m * frames + t] = value;
      largest = Math.max(largest, value);
    }
  }
  if (floorBelowMax !== null) {
    for (let i = 0; i < data.length; i++) data[i] = Math.max(data[i]!, largest - floorBelowMax);
  }
  return { data, bins: mel.nMels, frames };
}

/** Whisper's constants (openai/whisper whisper/audio.py). */
export const WHISPER = { sampleRate: 16000, nFft: 400, hopLength: 160, floorBelowMax: 8 } as const;

export interface WhisperOptions {
  /** 80 (Whisper up to large-v2) or 128 (large-v3). Default 80. */
  nMels?: 80 | 128;
  /** Zero samples appended before the STFT (Whisper's `padding` argument). Default 0. */
  padding?: number;
}

/** The mel count and padding, checked. */
export function resolveWhisperOptions(
  fn: string,
  opts: WhisperOptions,
): { nMels: 80 | 128; padding: number } {
  if (typeof opts !== 'object' || opts === null) invalidArgument(`${fn}: options must be an object`);
  const nMels = opts.nMels ?? 80;
  if (nMels !== 80 && nMels !== 128)
    invalidArgument(`${fn}: nMels is ${describe(nMels)}; expected 80 or 128`);
  const pad = opts.padding ?? 0;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0) {
    invalidArgument(`${fn}: padding is ${describe(pad)}; expected an integer >= 0 (zero samples appended)`);
  }
  return { nMels, padding: pad };
}

/** Frames of Whisper's log-mel for `length` samples plus `padding` zeros (the STFT's last frame dropped). */
export function whisperFrames(fn: string, length: number, padding: number): number {
  const reflect = WHISPER.nFft / 2;
  if (length + padding <= reflect) {
    invalidArgument(
      `${fn}: signal has ${length} samples + padding ${padding} = ${length + padding}; center reflect padding ` +
        `of nFft / 2 = ${reflect} needs more than ${reflect} (torch.stft refuses the same)`,
    );
  }
  return Math.floor((length + padding) / WHISPER.hopLength);
}

/**
 * Whisper's `log_mel_spectrogram(audio, n_mels, padding)` on 16 kHz audio: STFT (n_fft 400, hop 160, periodic
 * Hann, center reflect), the last frame dropped, |X|^2, Slaney mel filters, log10(clamp(min=1e-10)),
 * floored at max - 8, then (x + 4) / 4. `[nMels, (length + padding) / 160]` (integer division).
 */
export function whisperLogMelReference(
  signal: Float32Array | Float64Array,
  opts: WhisperOptions = {},
): ReferenceSpectrogram {
  const fn = 'whisperLogMelReference';
  const x = checkSignal(fn, signal);
  const { nMels, padding: pad } = resolveWhisperOptions(fn, opts);
  whisperFrames(fn, x.length, pad);
  const padded = new Float64Array(x.length + pad);
  padded.set(x);
  const { sampleRate, nFft, hopLength } = WHISPER;
  const full = logMelSpectrogramReference(padded, { sampleRate, nFft, hopLength, nMels });
  // stft[..., :-1]: the last frame is dropped before the max and the floor
  const frames = full.frames - 1;
  const data = new Float64Array(nMels * frames);
  let largest = -Infinity;
  for (let m = 0; m < nMels; m++) {
    for (let t = 0; t < frames; t++) {
      const value = full.data[m * full.frames + t]!;
      data[m * frames + t] = value;
      largest = Math.max(largest, value);
    }
  }
  for (let i = 0; i < data.length; i++)
    data[i] = (Math.max(data[i]!, largest - WHISPER.floorBelowMax) + 4) / 4;
  return { data, bins: nMels, frames };
}
