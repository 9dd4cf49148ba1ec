import { add, concat, indexSelect, matmul, sqrt, square, type Tensor, tidy } from '@multihead/core';
import { describe, invalidArgument } from './arguments.js';
import {
  frameCount,
  frameIndices,
  type MatmulPlan,
  matmulPlan,
  resolveStftOptions,
  type SpectrogramLayout,
  type StftConfig,
  type StftOptions,
} from './plan.js';
import type { SpectrogramOptions } from './reference.js';

/**
 * STFT and power spectrogram on a device (WebGPU or the CPU backend), from core's public ops: frames are
 * gathered with reflect padding through an index tensor (indexSelect), multiplied by the window-folded DFT
 * basis of plan.ts (matmul: real and imaginary halves at once), and squared. A signal is `[L]` or `[B, L]`
 * f32; the outputs keep the batch dimension only if the signal had one.
 */

/** @internal Frames are processed in chunks of at most this many gathered samples (B * frames * taps). */
export const SPECTRUM_CHUNK = { elements: 1 << 22 };

/** Checks the signal; `rows` makes it `[B, L]` (a view to dispose: call it inside `tidy`). */
export function checkSignal(
  fn: string,
  signal: unknown,
): { batched: boolean; length: number; rows: () => Tensor } {
  const t = signal as Tensor;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof t.dtype !== 'string' ||
    !Array.isArray(t.shape)
  ) {
    invalidArgument(
      `${fn}: signal is ${describe(signal)}; expected a core Tensor [samples] or [batch, samples]`,
    );
  }
  if (t.dtype !== 'f32') invalidArgument(`${fn}: signal has dtype ${t.dtype}; expected f32`);
  if (t.rank !== 1 && t.rank !== 2) {
    invalidArgument(
      `${fn}: signal has shape [${t.shape.join(', ')}]; expected [samples] or [batch, samples]`,
    );
  }
  if (t.rank === 2 && t.shape[0] === 0)
    invalidArgument(`${fn}: signal has shape [0, ${t.shape[1]}]; expected a batch of at least 1`);
  return {
    batched: t.rank === 2,
    length: t.shape[t.rank - 1]!,
    rows: () => (t.rank === 1 ? t.unsqueeze(0) : t),
  };
}

/**
 * Runs `perFrames` on the spectrum `[B * count, 2 * freqStride]` of each chunk of frames [0, frames) and
 * joins the results `[B * count, W]` into `[B, frames, W]`. Call inside `tidy`.
 */
export function framewise(
  rows: Tensor,
  plan: MatmulPlan,
  frames: number,
  perFrames: (spectrum: Tensor) => Tensor,
): Tensor {
  const [batch, length] = rows.shape as [number, number];
  const basis = rows.device.tensor(plan.basis, [plan.taps, 2 * plan.freqStride]);
  const perChunk = Math.max(1, Math.floor(SPECTRUM_CHUNK.elements / (batch * plan.taps)));
  const parts: Tensor[] = [];
  for (let first = 0; first < frames; first += perChunk) {
    const count = Math.min(perChunk, frames - first);
    const indices = rows.device.tensor(frameIndices(plan, length, first, count), [count, plan.taps]);
    const gathered = indexSelect(rows, 1, indices); // [B, count, taps]
    const spectrum = matmul(gathered.reshape([batch * count, plan.taps]), basis); // [B * count, 2 * freqStride]
    const out = perFrames(spectrum);
    parts.push(out.reshape([batch, count, out.shape[1]!]));
  }
  return parts.length === 1 ? parts[0]! : concat(parts, 1);
}

/** `[B, frames, bins]` to the caller's layout and batch form. Call inside `tidy`. */
export function arrange(x: Tensor, layout: SpectrogramLayout, batched: boolean): Tensor {
  const laid = (layout === 'frequency-first' ? x.permute([0, 2, 1]) : x).contiguous();
  return batched ? laid : laid.reshape(laid.shape.slice(1));
}

function prepare(fn: string, signal: Tensor, opts: StftOptions) {
  const { rows, batched, length } = checkSignal(fn, signal);
  const config: StftConfig = resolveStftOptions(fn, opts);
  return { rows, batched, frames: frameCount(fn, config, length), plan: matmulPlan(config) };
}

/**
 * `torch.stft(signal, nFft, hopLength, winLength, window=torch.hann_window(winLength), center,
 * pad_mode='reflect', onesided=True, return_complex=True)` as real and imaginary parts, each
 * `[B?, nFreq, frames]` (or `[B?, frames, nFreq]` with layout 'time-first'); nFreq = nFft / 2 + 1.
 */
export function stft(signal: Tensor, opts: StftOptions): { real: Tensor; imag: Tensor } {
  const fn = 'stft';
  const { rows, batched, frames, plan } = prepare(fn, signal, opts);
  const { nFreq, layout } = plan.config;
  return tidy(() => {
    const spectrum = framewise(rows(), plan, frames, (s) => s);
    return {
      real: arrange(spectrum.slice(2, 0, nFreq), layout, batched),
      imag: arrange(spectrum.slice(2, plan.freqStride, plan.freqStride + nFreq), layout, batched),
    };
  });
}

/** |X|^2 (or |X| with power 1) of a spectrum chunk: `[rows, freqStride]`, 0 in the padding columns. */
export function powerOf(spectrum: Tensor, freqStride: number, power: 1 | 2): Tensor {
  const re = spectrum.slice(1, 0, freqStride);
  const im = spectrum.slice(1, freqStride, 2 * freqStride);
  const p = add(square(re), square(im));
  return power === 2 ? p : sqrt(p);
}

/** |stft|^2 (power 2, the default) or |stft| (power 1): `[B?, nFreq, frames]` or `[B?, frames, nFreq]`. */
export function powerSpectrogram(signal: Tensor, opts: SpectrogramOptions): Tensor {
  const fn = 'powerSpectrogram';
  const power = opts.power ?? 2;
  if (power !== 1 && power !== 2) invalidArgument(`${fn}: power is ${describe(power)}; expected 1 or 2`);
  const { rows, batched, frames, plan } = prepare(fn, signal, opts);
  const { nFreq, layout } = plan.config;
  return tidy(() => {
    const spec = framewise(rows(), plan, frames, (s) => powerOf(s, plan.freqStride, power));
    return arrange(spec.slice(2, 0, nFreq), layout, batched);
  });
}
