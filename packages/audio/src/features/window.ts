import { checkInteger, invalidArgument } from './arguments.js';

/**
 * Hann window, float64. Periodic by default, as `torch.hann_window(n)` (periodic=True) and
 * `scipy.signal.get_window('hann', n)`: w[i] = 0.5 - 0.5 cos(2 pi i / n), the first n points of a length
 * n + 1 symmetric window, so overlapping frames at hop n / 2 sum to a constant. `periodic: false` gives the
 * symmetric window (denominator n - 1), as `torch.hann_window(n, periodic=False)`; length 1 is [1] either way.
 */
export function hannWindow(length: number, opts: { periodic?: boolean } = {}): Float64Array {
  checkInteger('hannWindow', 'length', length, 1);
  const periodic = opts.periodic ?? true;
  const out = new Float64Array(length);
  if (length === 1) {
    out[0] = 1;
    return out;
  }
  const denominator = periodic ? length : length - 1;
  for (let i = 0; i < length; i++) out[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / denominator);
  return out;
}

/**
 * The window of `winLength` samples centered in `nFft` and zero-padded on both sides: torch.stft's rule,
 * left padding floor((nFft - winLength) / 2).
 */
export function paddedWindow(fn: string, nFft: number, winLength: number): Float64Array {
  if (winLength > nFft) invalidArgument(`${fn}: winLength is ${winLength}; expected at most nFft = ${nFft}`);
  const out = new Float64Array(nFft);
  out.set(hannWindow(winLength), windowOffset(nFft, winLength));
  return out;
}

/** Where a window of `winLength` samples starts inside an `nFft` frame (torch.stft centers it). */
export function windowOffset(nFft: number, winLength: number): number {
  return Math.floor((nFft - winLength) / 2);
}
