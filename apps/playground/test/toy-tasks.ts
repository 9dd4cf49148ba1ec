/**
 * Tasks written outside the app, on the task protocol alone (core only), one per input kind the text
 * tasks do not use: an image, audio (a WAV file or the microphone), a graph, a protein sequence, and no
 * input with a MIDI output. The e2e test builds the app with `PLAYGROUND_TASK_MODULES=test/toy-tasks.ts`
 * (as the CLI's --tasks-from), so they prove that every input widget and output view works for a task
 * the app has never heard of. They are plain transforms, not models: their attention maps are real
 * (core's fused kernel, weights on demand, over features of the input), and they refuse to train.
 */
import {
  type AttentionReport,
  attention,
  MultiheadError,
  type Task,
  type TaskContext,
  tasks,
} from '@multihead/core';

const nothingToTrain = (id: string) => async (): Promise<never> => {
  throw new MultiheadError('UNSUPPORTED', `${id} is a test task with no model to train or evaluate`);
};

/** Attention weights `[heads, N, N]` of queries = keys = values = `features` ([N, D]); head h scales q by h + 1. */
async function featureAttention(
  ctx: TaskContext,
  features: number[][],
  bias?: Float32Array,
): Promise<Float32Array> {
  const n = features.length;
  const d = features[0]!.length;
  const heads = 2;
  const flat = Float32Array.from(features.flat());
  const q = ctx.device.tensor(
    Float32Array.from(
      { length: heads * n * d },
      (_, i) => flat[i % (n * d)]! * (1 + Math.floor(i / (n * d))),
    ),
    [1, heads, n, d],
  );
  const kv = ctx.device.tensor(
    Float32Array.from({ length: heads * n * d }, (_, i) => flat[i % (n * d)]!),
    [1, heads, n, d],
  );
  const b = bias ? ctx.device.tensor(bias, [1, 1, n, n]) : undefined;
  const { out, lse, weights } = attention.detailed(q, kv, kv, { weights: true, ...(b ? { bias: b } : {}) });
  const values = (await weights!.read()) as Float32Array;
  for (const t of [q, kv, b, out, lse, weights]) t?.dispose();
  return values;
}

function report(
  positions: AttentionReport['positions'],
  labels: string[],
  weights: Float32Array,
): AttentionReport {
  return { positions, labels, numLayers: 1, layers: [{ layer: 0, heads: 2, weights }], causal: false };
}

// ---- image: invert, 32 x 32 gray, streamed row by row ----------------------------------------------

const SIDE = 32;

function grayThumbnail(input: unknown): Uint8Array {
  const image = input as tasks.PixelsInput;
  if (
    !image ||
    typeof image.width !== 'number' ||
    !(image.data instanceof Uint8ClampedArray || image.data instanceof Uint8Array)
  ) {
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      `toy/invert: expected pixels, got ${tasks.describeInput(input)}`,
    );
  }
  const channels = image.channels ?? 4;
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      // nearest source pixel of this cell's centre
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / SIDE));
      const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / SIDE));
      const p = (sy * image.width + sx) * channels;
      out[y * SIDE + x] =
        channels === 1
          ? image.data[p]!
          : Math.round((image.data[p]! + image.data[p + 1]! + image.data[p + 2]!) / 3);
    }
  }
  return out;
}

const invertTask: Task = tasks.defineTask({
  id: 'toy/invert',
  kind: 'generate',
  description: 'toy: a 32 x 32 gray negative of the image, streamed row by row (a test task)',
  input: { kind: 'image', description: 'any image; draw one' },
  output: { kind: 'image', stream: 'pixels' },
  metrics: [{ name: 'none', description: 'nothing to evaluate', better: 'higher' }],
  positions: 'patches',
  train: nothingToTrain('toy/invert'),
  evaluate: nothingToTrain('toy/invert'),
  run: (_ctx, input) =>
    tasks.streamingRun(async function* () {
      const gray = grayThumbnail(input);
      const data = gray.map((v) => 255 - v);
      for (let row = 0; row < SIDE; row++) {
        yield {
          kind: 'pixels',
          row,
          width: SIDE,
          channels: 1,
          data: data.slice(row * SIDE, (row + 1) * SIDE),
        };
      }
      return { kind: 'image', image: { width: SIDE, height: SIDE, channels: 1, data } };
    }),
  async attention(ctx, input) {
    const gray = grayThumbnail(input);
    const patch = SIDE / 4;
    const features = Array.from({ length: 16 }, (_, p) => {
      let sum = 0;
      for (let y = 0; y < patch; y++)
        for (let x = 0; x < patch; x++) sum += gray[((p >> 2) * patch + y) * SIDE + (p & 3) * patch + x]!;
      const mean = sum / (patch * patch * 255);
      return [4 * mean, 1 - mean, (p >> 2) / 4, (p & 3) / 4];
    });
    const weights = await featureAttention(ctx, features);
    // rollout stand-in for a one-layer map: the attention each patch receives, averaged over queries and heads
    const rollout = new Float32Array(16);
    for (let i = 0; i < weights.length; i++) rollout[i % 16]! += weights[i]! / 32;
    return {
      ...report(
        'patches',
        features.map((_, p) => `p${p}`),
        weights,
      ),
      grid: [4, 4],
      rollout,
      background: { width: SIDE, height: SIDE, channels: 1, data: gray },
    };
  },
});

// ---- audio: reversed -------------------------------------------------------------------------------

/** Mono samples from a PCM16 WAV file or from `{ sampleRate, channels }`. */
async function monoSamples(input: unknown): Promise<{ sampleRate: number; samples: Float32Array }> {
  if (tasks.isFileInput(input)) {
    const { bytes } = await tasks.inputBytes(input, 'toy/reverse-audio');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
    if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
      throw new MultiheadError('INVALID_ARGUMENT', 'toy/reverse-audio: not a WAV file');
    let channels = 1;
    let sampleRate = 0;
    for (let o = 12; o + 8 <= bytes.length; o += 8 + view.getUint32(o + 4, true)) {
      if (tag(o) === 'fmt ') {
        channels = view.getUint16(o + 10, true);
        sampleRate = view.getUint32(o + 12, true);
        if (view.getUint16(o + 22, true) !== 16)
          throw new MultiheadError('INVALID_ARGUMENT', 'toy/reverse-audio: 16-bit PCM only');
      } else if (tag(o) === 'data') {
        const frames = Math.floor(
          Math.min(view.getUint32(o + 4, true), bytes.length - o - 8) / (2 * channels),
        );
        const samples = new Float32Array(frames);
        for (let f = 0; f < frames; f++) {
          for (let c = 0; c < channels; c++)
            samples[f]! += view.getInt16(o + 8 + (f * channels + c) * 2, true) / 32768 / channels;
        }
        return { sampleRate, samples };
      }
    }
    throw new MultiheadError('INVALID_ARGUMENT', 'toy/reverse-audio: the WAV file has no data chunk');
  }
  const clip = input as tasks.SamplesInput;
  if (!clip || !Array.isArray(clip.channels) || clip.channels.length === 0) {
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      `toy/reverse-audio: expected a WAV file or samples, got ${tasks.describeInput(input)}`,
    );
  }
  const samples = new Float32Array(clip.channels[0]!.length);
  for (const channel of clip.channels)
    for (let i = 0; i < samples.length; i++) samples[i]! += channel[i]! / clip.channels.length;
  return { sampleRate: clip.sampleRate, samples };
}

const reverseAudioTask: Task = tasks.defineTask({
  id: 'toy/reverse-audio',
  kind: 'generate',
  description: 'toy: the clip played backwards, mixed to mono (a test task)',
  input: {
    kind: 'audio',
    description: 'a 16-bit PCM WAV file or a recording',
    accept: ['.wav', 'audio/wav'],
  },
  output: { kind: 'audio' },
  metrics: [{ name: 'none', description: 'nothing to evaluate', better: 'higher' }],
  positions: 'frames',
  train: nothingToTrain('toy/reverse-audio'),
  evaluate: nothingToTrain('toy/reverse-audio'),
  run: (_ctx, input) =>
    tasks.resultRun(async () => {
      const { sampleRate, samples } = await monoSamples(input);
      return { kind: 'audio', sampleRate, samples: samples.slice().reverse() };
    }),
  async attention(ctx, input) {
    const { samples } = await monoSamples(input);
    const frame = Math.max(1, Math.floor(samples.length / 8));
    const features = Array.from({ length: 8 }, (_, f) => {
      const part = samples.subarray(f * frame, (f + 1) * frame);
      const rms = Math.sqrt(part.reduce((s, v) => s + v * v, 0) / Math.max(1, part.length));
      return [10 * rms, f / 8];
    });
    return report(
      'frames',
      features.map((_, f) => `f${f}`),
      await featureAttention(ctx, features),
    );
  },
});

// ---- graph: degree labels --------------------------------------------------------------------------

async function parseEdges(input: unknown): Promise<{ nodes: string[]; edges: [number, number][] }> {
  const nodes: string[] = [];
  const edges: [number, number][] = [];
  const at = (name: string) => (nodes.includes(name) ? nodes.indexOf(name) : nodes.push(name) - 1);
  for (const line of (await tasks.inputText(input as string, 'toy/degrees')).split('\n')) {
    const fields = line.trim().split(/\s+/).filter(Boolean);
    if (fields.length === 0) continue;
    if (fields.length > 2)
      throw new MultiheadError(
        'INVALID_ARGUMENT',
        `toy/degrees: expected 'source target', got ${JSON.stringify(line)}`,
      );
    const a = at(fields[0]!);
    if (fields[1] !== undefined) edges.push([a, at(fields[1])]);
  }
  return { nodes, edges };
}

const degreesTask: Task = tasks.defineTask({
  id: 'toy/degrees',
  kind: 'classify',
  description: "toy: each node labelled 'hub' (two or more edges) or 'leaf' (a test task)",
  input: { kind: 'graph', description: 'an edge list: one `source target` per line' },
  output: { kind: 'labels', labels: ['leaf', 'hub'] },
  metrics: [{ name: 'none', description: 'nothing to evaluate', better: 'higher' }],
  positions: 'nodes',
  train: nothingToTrain('toy/degrees'),
  evaluate: nothingToTrain('toy/degrees'),
  run: (_ctx, input) =>
    tasks.resultRun(async () => {
      const { nodes, edges } = await parseEdges(input);
      const degree = nodes.map((_, i) => edges.filter(([a, b]) => a === i || b === i).length);
      return {
        kind: 'labels',
        items: nodes.map((node, i) => ({ position: node, label: degree[i]! >= 2 ? 'hub' : 'leaf' })),
      };
    }),
  async attention(ctx, input) {
    const { nodes, edges } = await parseEdges(input);
    const n = nodes.length;
    // a node attends to itself and its neighbours (structural bias, as graph transformers use)
    const bias = new Float32Array(n * n).fill(-30);
    for (let i = 0; i < n; i++) bias[i * n + i] = 0;
    for (const [a, b] of edges) bias[a * n + b] = bias[b * n + a] = 0;
    const features = nodes.map((_, i) => [edges.filter(([a, b]) => a === i || b === i).length, 1]);
    return report('nodes', nodes, await featureAttention(ctx, features, bias));
  },
});

// ---- sequence: composition -------------------------------------------------------------------------

async function residues(input: unknown): Promise<string> {
  const text = await tasks.inputText(input as string, 'toy/composition');
  const seq = text
    .split('\n')
    .filter((l) => !l.startsWith('>'))
    .join('')
    .replace(/\s+/g, '')
    .toUpperCase();
  if (!/^[A-Z]+$/.test(seq))
    throw new MultiheadError(
      'INVALID_ARGUMENT',
      'toy/composition: expected residue letters (FASTA or plain)',
    );
  return seq;
}

const compositionTask: Task = tasks.defineTask({
  id: 'toy/composition',
  kind: 'regress',
  description: 'toy: length and hydrophobic share of a protein sequence (a test task)',
  input: { kind: 'sequence', description: 'a FASTA record or residue letters', example: 'MKVLA' },
  output: { kind: 'values' },
  metrics: [{ name: 'none', description: 'nothing to evaluate', better: 'higher' }],
  positions: 'residues',
  train: nothingToTrain('toy/composition'),
  evaluate: nothingToTrain('toy/composition'),
  run: (_ctx, input) =>
    tasks.resultRun(async () => {
      const seq = await residues(input);
      const hydrophobic = [...seq].filter((c) => 'AVILMFWC'.includes(c)).length;
      return {
        kind: 'values',
        values: { length: seq.length, hydrophobic: hydrophobic / seq.length },
        units: { length: 'residues' },
      };
    }),
  async attention(ctx, input) {
    const seq = (await residues(input)).slice(0, 32);
    const features = [...seq].map((c, i) => [
      ('AVILMFWC'.includes(c) ? 2 : 0) + (c.charCodeAt(0) % 5) / 5,
      i / seq.length,
    ]);
    return report('residues', [...seq], await featureAttention(ctx, features));
  },
});

// ---- no input: a C major scale as MIDI, with a WAV rendering ---------------------------------------

const SCALE = [60, 62, 64, 65, 67, 69, 71, 72];
const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const noteName = (pitch: number) => `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;

/** Standard MIDI file, format 0, 480 ticks a quarter note, one quarter note per pitch. */
function midiFile(pitches: number[]): Uint8Array {
  const track: number[] = [];
  for (const p of pitches) track.push(0x00, 0x90, p, 100, 0x83, 0x60, 0x80, p, 0); // delta 480 = 0x83 0x60
  track.push(0x00, 0xff, 0x2f, 0x00);
  const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  return Uint8Array.from([
    ...ascii('MThd'),
    ...u32(6),
    0,
    0,
    0,
    1,
    0x01,
    0xe0,
    ...ascii('MTrk'),
    ...u32(track.length),
    ...track,
  ]);
}

/** 16-bit PCM mono WAV of one sine tone per pitch. */
function sineWav(pitches: number[], sampleRate = 8000, seconds = 0.25): Uint8Array {
  const n = Math.round(sampleRate * seconds);
  const samples = pitches.flatMap((p) =>
    Array.from(
      { length: n },
      (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * 2 ** ((p - 69) / 12) * i) / sampleRate),
    ),
  );
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, s: string) =>
    bytes.set(
      [...s].map((c) => c.charCodeAt(0)),
      offset,
    );
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // bytes per frame
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (const [i, s] of samples.entries()) view.setInt16(44 + i * 2, Math.round(s * 32767), true);
  return bytes;
}

const scaleTask: Task = tasks.defineTask({
  id: 'toy/scale',
  kind: 'generate',
  description: 'toy: a C major scale as MIDI events, with a WAV rendering (a test task)',
  input: { kind: 'none', description: 'nothing' },
  output: { kind: 'midi', stream: 'events' },
  metrics: [{ name: 'none', description: 'nothing to evaluate', better: 'higher' }],
  positions: 'events',
  train: nothingToTrain('toy/scale'),
  evaluate: nothingToTrain('toy/scale'),
  run: () =>
    tasks.streamingRun(async function* () {
      for (const p of SCALE) yield { kind: 'events', events: [noteName(p)] };
      return {
        kind: 'midi',
        midi: midiFile(SCALE),
        events: SCALE.length * 2,
        artifacts: [{ name: 'scale.wav', mime: 'audio/wav', bytes: sineWav(SCALE) }],
      };
    }),
  async attention(ctx) {
    return report(
      'events',
      SCALE.map(noteName),
      await featureAttention(
        ctx,
        SCALE.map((p) => [(p - 60) / 6, 1]),
      ),
    );
  },
});

export const TASKS = [invertTask, reverseAudioTask, degreesTask, compositionTask, scaleTask];
