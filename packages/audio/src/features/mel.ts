import { checkInteger, checkNumber, invalidArgument } from './arguments.js';

/**
 * Slaney's mel scale and filter bank (Auditory Toolbox, 1998), as librosa computes them by default
 * (`librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney')`) and as Whisper's
 * mel_filters.npz holds them: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per
 * factor 6.4); triangles between consecutive points of n_mels + 2 evenly spaced mels, each scaled to unit
 * area in Hz (2 / (f[i + 2] - f[i])). Float64 throughout.
 */
const HZ_PER_MEL = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / HZ_PER_MEL; // 15
const LOG_STEP = Math.log(6.4) / 27;

/** Hz to Slaney mels (librosa `hz_to_mel(f, htk=False)`). */
export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / HZ_PER_MEL;
}

/** Slaney mels to Hz (librosa `mel_to_hz(m, htk=False)`). */
export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : HZ_PER_MEL * mel;
}

export interface MelFilterBankOptions {
  /** Samples per second of the audio the spectrogram comes from. */
  sampleRate: number;
  /** FFT size: the bank has nFft / 2 + 1 columns, one per one-sided frequency bin. */
  nFft: number;
  nMels: number;
  /** Lowest edge in Hz (default 0). */
  fMin?: number;
  /** Highest edge in Hz (default sampleRate / 2, the Nyquist frequency). */
  fMax?: number;
}

/** The options with their defaults, checked; `fn` names the public function in messages. */
export function resolveMelOptions(fn: string, opts: MelFilterBankOptions): Required<MelFilterBankOptions> {
  if (typeof opts !== 'object' || opts === null) {
    invalidArgument(`${fn}: options must be an object with sampleRate, nFft and nMels`);
  }
  const sampleRate = checkNumber(fn, 'sampleRate', opts.sampleRate, Number.MIN_VALUE);
  const nFft = checkInteger(fn, 'nFft', opts.nFft, 2);
  const nMels = checkInteger(fn, 'nMels', opts.nMels, 1);
  const nyquist = sampleRate / 2;
  const fMin = checkNumber(fn, 'fMin', opts.fMin ?? 0, 0, nyquist);
  const fMax = checkNumber(fn, 'fMax', opts.fMax ?? nyquist, 0, nyquist);
  if (fMax <= fMin) invalidArgument(`${fn}: fMax is ${fMax} Hz; expected more than fMin = ${fMin} Hz`);
  return { sampleRate, nFft, nMels, fMin, fMax };
}

/**
 * The mel filter bank, row-major `[nMels, nFft / 2 + 1]` (librosa's layout: `mel @ power` maps a
 * `[nFreq, frames]` power spectrogram to `[nMels, frames]`). Filters that fall between two FFT bins are all
 * zero, as in librosa (which warns); fewer mels or a larger nFft avoids them.
 */
export function melFilterBank(opts: MelFilterBankOptions): Float64Array {
  const { sampleRate, nFft, nMels, fMin, fMax } = resolveMelOptions('melFilterBank', opts);
  const nFreq = Math.floor(nFft / 2) + 1;
  const melMin = hzToMel(fMin);
  const melMax = hzToMel(fMax);
  // n_mels + 2 points evenly spaced in mels (np.linspace), in Hz
  const points = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) points[i] = melToHz(melMin + ((melMax - melMin) * i) / (nMels + 1));
  const weights = new Float64Array(nMels * nFreq);
  for (let m = 0; m < nMels; m++) {
    const left = points[m]!;
    const center = points[m + 1]!;
    const right = points[m + 2]!;
    const areaNorm = 2 / (right - left);
    for (let k = 0; k < nFreq; k++) {
      const hz = (k * sampleRate) / nFft; // np.fft.rfftfreq(n_fft, 1 / sr)
      const rising = (hz - left) / (center - left);
      const falling = (right - hz) / (right - center);
      weights[m * nFreq + k] = Math.max(0, Math.min(rising, falling)) * areaNorm;
    }
  }
  return weights;
}
