/**
 * Whisper's log-mel spectrogram (80 mels) of a seeded 16 kHz signal: `whisperLogMel` of @multihead/audio on
 * our CPU backend and on WebGPU beside its plain-TypeScript float64 reference (`whisperLogMelReference`),
 * in one run; each of ours is checked against the reference's output.
 */

import { WHISPER, whisperLogMel, whisperLogMelReference } from '@multihead/audio';
import type { Device, Tensor } from '@multihead/core';
import { type BenchEnv, randomFloats, round, timeIt } from './env.js';
import type { BenchRow } from './types.js';

export const LOGMEL_MELS = 80;
/** A call slower than this is timed once after the warm-up (the reference takes seconds at 30 s). */
const ONCE_MS = 4000;

/**
 * `seconds` of 16 kHz audio: a chirp from 100 Hz to 4 kHz, a 440 Hz tone and seeded noise at about -30 dB,
 * so every mel band and the floor at max - 8 both matter.
 */
export function logmelSignal(seconds: number): Float32Array {
  const rate = WHISPER.sampleRate;
  const n = Math.round(seconds * rate);
  const noise = randomFloats(n, 31);
  const [f0, f1] = [100, 4000];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    // linear chirp: phase 2π(f0·t + (f1 - f0)·t² / (2·seconds))
    const chirp = Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds)));
    out[i] = 0.4 * chirp + 0.2 * Math.sin(2 * Math.PI * 440 * t) + 0.03 * noise[i]!;
  }
  return out;
}

function maxAbsDiff(got: Float32Array, want: Float64Array): number {
  if (got.length !== want.length)
    throw new Error(`bench logmel: ${got.length} values, expected ${want.length}`);
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  return err;
}

export async function benchLogmel(
  env: BenchEnv,
  sizes: readonly number[],
  reps: number,
  progress: () => void,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const seconds of sizes) {
    const signal = logmelSignal(seconds);
    const base = { bench: 'logmel' as const, size: `${seconds} s` };
    const row = (impl: string, device: string, t: { ms: number; reps: number; iters: number }): BenchRow => ({
      ...base,
      impl,
      ms: round(t.ms, 4),
      realtime: round((seconds * 1000) / t.ms),
      device,
      reps: t.reps,
      iters: t.iters,
    });
    const failed = (impl: string, device: string, error: unknown): BenchRow => ({
      ...base,
      impl,
      ms: Number.NaN,
      error: String((error as Error)?.message ?? error).slice(0, 300),
      device,
      reps: 0,
      iters: 0,
    });

    let reference: Float64Array | null = null;
    const refTimed = await timeIt(
      async () => {
        reference = whisperLogMelReference(signal, { nMels: LOGMEL_MELS }).data;
      },
      reps,
      250,
      ONCE_MS,
    );
    const refRow = row('ts-reference', `TypeScript, float64, Node ${process.version}`, refTimed);
    progress();

    const ours = async (impl: string, device: Device, where: string) => {
      const x: Tensor = device.tensor(signal, [signal.length]);
      let out: Float32Array | null = null;
      try {
        // the signal stays on the device; each call's output is read back at the end of a timed batch
        const t = await timeIt(
          async (read) => {
            const mel = whisperLogMel(x, { nMels: LOGMEL_MELS });
            if (read) out = (await mel.read()) as Float32Array;
            mel.dispose();
          },
          reps,
          250,
          ONCE_MS,
        );
        const r = row(impl, where, t);
        r.maxErr = round(maxAbsDiff(out!, reference!), 2);
        r.vsReference = round(refTimed.ms / t.ms);
        return r;
      } catch (error) {
        return failed(impl, where, error);
      } finally {
        x.dispose();
        progress();
      }
    };
    rows.push(await ours('multihead-cpu', env.cpu, env.cpu.describe()));
    rows.push(await ours('multihead-webgpu', env.gpu, env.adapter));
    rows.push(refRow);
  }
  return rows;
}

/** docs/benchmarks.md's logmel section. */
export function logmelSection(rows: readonly BenchRow[], env: BenchEnv, command: string): string {
  const date = new Date().toISOString().slice(0, 10);
  const { sampleRate, nFft, hopLength, floorBelowMax } = WHISPER;
  const cell = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const errors = rows.filter((r) => r.error);
  const lines = [
    `## logmel (Whisper's log-mel spectrogram, ${LOGMEL_MELS} mels)`,
    '',
    `- date: ${date}`,
    `- machine: ${env.machine}; Node ${process.version}`,
    `- WebGPU adapter: ${env.adapter} (Dawn, npm \`webgpu\`); CPU: ${env.cpu.describe()}`,
    `- command: \`${command}\``,
    `- what: Whisper's \`log_mel_spectrogram\` of (size) seconds of ${sampleRate / 1000} kHz audio (n_fft ${nFft}, hop ${hopLength}, periodic Hann, center reflect padding, last frame dropped, |X|², Slaney mel filters, log10 clamped at 1e-10, floor at max - ${floorBelowMax}, (x + 4) / 4): [${LOGMEL_MELS}, frames]`,
    '- signal: a seeded mix of a 100 Hz → 4 kHz chirp, a 440 Hz tone and noise at about -30 dB',
    "- implementations: `multihead-cpu` and `multihead-webgpu` are `whisperLogMel(signal, { nMels: 80 })` of @multihead/audio (the signal resident on the device, the output read back at the end of each timed batch); `ts-reference` is `whisperLogMelReference`, the package's plain-TypeScript float64 implementation that its tests check against PyTorch's `torch.stft`",
    '- ms: median per call after a warm-up; a call over 4 s is timed once after the warm-up; x realtime = seconds of audio / seconds of compute; vs ref = reference ms / ms',
    '- max err: largest |ours - reference| over the whole spectrogram',
    '',
    '| size | implementation | ms | x realtime | max err | vs ref | device |',
    '|---|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.impl} | ${r.error ? 'failed' : r.ms} | ${cell(r.realtime)} | ${r.maxErr === undefined ? '' : r.maxErr.toExponential(1)} | ${cell(r.vsReference)} | ${r.device} |`,
    ),
  ];
  if (errors.length) {
    lines.push('', 'Failures:', '');
    for (const r of errors) lines.push(`- ${r.impl}, ${r.size}: ${r.error}`);
  }
  return lines.join('\n');
}
