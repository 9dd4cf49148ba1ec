/**
 * The event language model of audio/music: training windows drawn from whole pieces (`[BOS, events...,
 * EOS]`, a piece chosen in proportion to its length, transposed by a seeded number of semitones as Music
 * Transformer's training does), held-out NLL with sliding windows that give every scored event at least
 * half a window of context, and the n-gram baselines scored on exactly the same events.
 */
import { nn, noGrad, seededUniform, type TaskContext, tasks, tidy } from '@multihead/core';
import { type EventBigram, type EventUnigram, fitEventNgrams } from '../baselines/event-ngrams.js';
import type { MusicTransformer } from '../models/music-transformer.js';
import { BOS, EOS, NOTE_OFF, PAD, TIME_SHIFT } from '../music/events.js';

export interface MusicTraining extends tasks.TaskTrainingHyper {
  /** Transpose each training window by up to this many semitones either way (0 = never). */
  transpose: number;
}

/** A piece as the model reads it: BOS, its events, EOS. */
export const pieceTokens = (events: readonly number[]): number[] => [BOS, ...events, EOS];

/** Events moved by `semitones`; null when a note would leave 0..127. */
export function transposeEvents(tokens: readonly number[], semitones: number): number[] | null {
  const out = tokens.slice();
  for (let i = 0; i < out.length; i++) {
    const id = out[i]!;
    if (id >= TIME_SHIFT) continue; // time shifts, velocities, special tokens
    const pitch = (id % NOTE_OFF) + semitones;
    if (pitch < 0 || pitch > 127) return null;
    out[i] = id - (id % NOTE_OFF) + pitch;
  }
  return out;
}

/** One batch of windows: inputs `[B, T]` (PAD after a short piece) and next-token targets (-100 there). */
export function musicBatch(
  pieces: readonly number[][],
  blockSize: number,
  h: Pick<MusicTraining, 'batchSize' | 'transpose'>,
  random: () => number,
) {
  const B = h.batchSize;
  const T = blockSize;
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const inputs = new Int32Array(B * T).fill(PAD);
  const targets = new Int32Array(B * T).fill(-100);
  for (let b = 0; b < B; b++) {
    let pick = random() * total;
    let piece = pieces[0]!;
    for (const p of pieces) {
      piece = p;
      pick -= p.length;
      if (pick < 0) break;
    }
    const start = Math.floor(random() * Math.max(1, piece.length - T));
    let window = piece.slice(start, start + T + 1);
    const shift = Math.round((2 * random() - 1) * h.transpose);
    window = (shift !== 0 && transposeEvents(window, shift)) || window;
    for (let t = 0; t + 1 < window.length; t++) {
      inputs[b * T + t] = window[t]!;
      targets[b * T + t] = window[t + 1]!;
    }
  }
  return { inputs, targets };
}

/** Trains `model` on token pieces; stops at `steps`, `maxSeconds` or ctx.signal. */
export async function trainMusic(
  ctx: TaskContext,
  model: MusicTransformer,
  pieces: readonly number[][],
  h: MusicTraining,
  run: tasks.TaskTrainingRun,
): Promise<tasks.TaskTrainSummary> {
  const random = seededUniform(run.seed * 7919 + 31);
  const T = model.config.blockSize;
  return await tasks.trainTaskModel(ctx, model, { ...h, betas: [0.9, 0.95] }, run, {
    unit: 'events',
    items: ({ scored }) => scored,
    batch: () => {
      const { inputs, targets } = musicBatch(pieces, T, h, random);
      return {
        inputs: ctx.device.tensor(inputs, [h.batchSize, T], { dtype: 'i32' }),
        targets: ctx.device.tensor(targets, [h.batchSize, T], { dtype: 'i32' }),
        scored: targets.filter((t) => t >= 0).length,
      };
    },
    loss: ({ inputs, targets }) => nn.crossEntropy(model.forward(inputs), targets),
  });
}

/**
 * Summed NLL (nats) of every event and the closing EOS of each piece under the model, from BOS:
 * windows of blockSize tokens advance by half a window, and each scores only the targets no earlier window
 * scored, so every event after the first window has at least blockSize / 2 tokens of context.
 */
export async function musicNll(
  model: MusicTransformer,
  pieces: readonly number[][],
  batch = 16,
): Promise<{ nll: number; count: number }> {
  model.eval();
  const T = model.config.blockSize;
  const stride = Math.max(1, Math.floor(T / 2));
  const windows: { tokens: number[]; from: number }[] = [];
  for (const piece of pieces) {
    for (let start = 0; ; start += stride) {
      const tokens = piece.slice(start, start + T + 1);
      windows.push({ tokens, from: start === 0 ? 0 : T - stride }); // targets before `from` were scored already
      if (start + T + 1 >= piece.length) break;
    }
  }
  let nll = 0;
  let count = 0;
  for (let at = 0; at < windows.length; at += batch) {
    const part = windows.slice(at, at + batch);
    const inputs = new Int32Array(part.length * T).fill(PAD);
    const targets = new Int32Array(part.length * T).fill(-100);
    part.forEach(({ tokens, from }, b) => {
      for (let t = 0; t + 1 < tokens.length; t++) {
        inputs[b * T + t] = tokens[t]!;
        if (t >= from) targets[b * T + t] = tokens[t + 1]!;
      }
    });
    count += targets.filter((t) => t >= 0).length;
    const loss = noGrad(() =>
      tidy(() => {
        const ids = model.device.tensor(inputs, [part.length, T], { dtype: 'i32' });
        const y = model.device.tensor(targets, [part.length, T], { dtype: 'i32' });
        return nn.crossEntropy(model.forward(ids), y, { reduction: 'sum' });
      }),
    );
    nll += (await loss.read())[0]!;
    loss.dispose();
  }
  return { nll, count };
}

/** The n-gram baselines' summed NLL on the same targets as `musicNll` (every token after BOS). */
export function ngramNll(unigram: EventUnigram, bigram: EventBigram, pieces: readonly number[][]) {
  let uni = 0;
  let bi = 0;
  for (const piece of pieces) {
    const targets = piece.slice(1);
    uni += unigram.nll(targets);
    bi += bigram.nll(targets, piece[0]!);
  }
  return { unigram: uni, bigram: bi };
}

/** Unigram and bigram of the training pieces (tokens without BOS), strengths tuned on their last tenth. */
export function fitMusicBaselines(train: readonly number[][], vocabSize: number) {
  const cut = Math.max(1, Math.floor(train.length * 0.9));
  const strip = (pieces: readonly number[][]) => pieces.map((p) => p.slice(1));
  return fitEventNgrams(strip(train.slice(0, cut)), strip(train.slice(cut)), vocabSize, BOS);
}
