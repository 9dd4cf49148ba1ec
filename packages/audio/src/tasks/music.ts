/**
 * audio/music: MIDI generation with a decoder over Music Transformer's performance events (music/events.ts:
 * note-on, note-off, 10 ms time shifts, velocity bins) with relative-position attention
 * (models/music-transformer.ts), trained on the MIDI files of openttd-openmsx, mma and abcmidi split by
 * piece (data/midi-corpus.ts). Evaluated by held-out NLL per event beside a unigram and a bigram event model
 * fitted in the same call; `run` streams the events it draws and returns the .mid with a .wav of it
 * rendered by the package's additive synth.
 */
import {
  type AttentionReport,
  models,
  noGrad,
  type Task,
  type TaskContext,
  type TaskPiece,
  tasks,
  tidy,
} from '@multihead/core';
import { loadMidiCorpus } from '../data/midi-corpus.js';
import { encodeWav } from '../io/wav.js';
import { MusicTransformer, type MusicTransformerConfig } from '../models/music-transformer.js';
import { BOS, describeEvent, EOS, EVENT_VOCAB_SIZE, eventsToNotes, PAD } from '../music/events.js';
import { notesToMidi, writeMidi } from '../music/midi.js';
import { renderNotes } from '../music/synth.js';
import { committedCheckpoint } from './committed.js';
import { attentionLayers } from './layers.js';
import {
  fitMusicBaselines,
  type MusicTraining,
  musicNll,
  ngramNll,
  pieceTokens,
  trainMusic,
} from './music-lm.js';
import { generationStats } from './music-stats.js';

export const MUSIC_TASK_ID = 'audio/music';

export const MUSIC_MODEL: Omit<MusicTransformerConfig, 'seed'> = {
  vocabSize: EVENT_VOCAB_SIZE,
  blockSize: 256,
  nLayer: 4,
  nHead: 4,
  nEmbd: 64,
  dropout: 0.1,
  numBuckets: 32,
  maxDistance: 256,
};

export const MUSIC_TRAINING: MusicTraining & { maxSeconds: number } = {
  steps: 3000,
  /**
   * The default run stops here at the latest (10 minutes): a 5-minute run of a block-128 model already
   * scored 3.98 nats per event against the bigram's 4.24, so 10 minutes leaves a margin on a loaded machine.
   */
  maxSeconds: 600,
  batchSize: 8,
  lr: 3e-3,
  minLr: 1e-4,
  warmupSteps: 100,
  weightDecay: 0.1,
  clipGradNorm: 1,
  transpose: 3,
};

/** Pieces as event lists: the training and the held-out ones (whole files). */
export interface MusicData {
  train: number[][];
  test: number[][];
}

export interface MusicOptions {
  config?: Partial<MusicTransformerConfig>;
  training?: Partial<MusicTraining>;
  /** The data (default: loadMidiCorpus's split by piece, seed 0, whatever the training seed). */
  data?: () => Promise<MusicData>;
  committed?: boolean;
  /** Events sampled by `evaluate` for its description of generated music (default 512; 0 = none). */
  evalSample?: number;
}

const loadCorpus = async (): Promise<MusicData> => {
  const corpus = await loadMidiCorpus({ seed: 0 });
  return { train: corpus.train.map((p) => p.events), test: corpus.test.map((p) => p.events) };
};

async function loadModel(ctx: TaskContext, task: Task) {
  const loaded = await tasks.loadTaskCheckpoint<MusicTransformerConfig>(ctx, task);
  const model = new MusicTransformer(ctx.device, { ...loaded.config, dropout: 0 });
  model.loadStateDict(loaded.checkpoint.model);
  model.eval();
  return { model, loaded };
}

interface Sampling {
  events: number;
  temperature: number;
  topK?: number;
  topP: number;
  seed: number;
  signal?: AbortSignal;
}

/** Streams sampled event ids after BOS until EOS or `events` of them (PAD and BOS are never drawn). */
function sampleEvents(model: MusicTransformer, s: Sampling): AsyncGenerator<number, void, undefined> {
  return models.stream(model, [BOS], {
    maxNewTokens: s.events,
    temperature: s.temperature,
    ...(s.topK ? { topK: s.topK } : {}),
    topP: s.topP,
    bannedTokens: [PAD, BOS],
    stopTokens: [EOS],
    seed: s.seed,
    ...(s.signal ? { signal: s.signal } : {}),
  });
}

/** The .mid and the synth's .wav of events. */
function artifactsOf(events: number[]) {
  const notes = eventsToNotes(events);
  const midi = writeMidi(notesToMidi(notes));
  const { sampleRate, samples } = renderNotes(notes, { sampleRate: 22050 });
  return { midi, wav: encodeWav({ sampleRate, channels: [samples] }), notes };
}

export function createMusicTask(options: MusicOptions = {}): Task {
  const data = options.data ?? loadCorpus;
  const who = MUSIC_TASK_ID;
  const task: Task = tasks.defineTask({
    id: MUSIC_TASK_ID,
    kind: 'generate',
    description:
      'MIDI music as performance events (Music Transformer): a relative-attention decoder vs unigram and bigram event models',
    input: { kind: 'none', description: 'none: the music is sampled from the start', required: false },
    output: {
      kind: 'midi',
      stream: 'events',
      description: 'a MIDI file, and a WAV of it played by an additive synth',
    },
    params: [
      {
        name: 'events',
        type: 'integer',
        min: 1,
        max: 8192,
        default: 512,
        description: 'events to generate at most (EOS ends sooner)',
      },
      tasks.temperatureParam,
      {
        name: 'topK',
        type: 'integer',
        min: 0,
        max: EVENT_VOCAB_SIZE,
        default: 0,
        description: 'sample from the k likeliest events (0 = all)',
      },
      {
        name: 'topP',
        type: 'number',
        min: 0.01,
        max: 1,
        default: 0.95,
        description: 'nucleus sampling: the likeliest events up to this mass',
      },
    ],
    metrics: [
      {
        name: 'nll',
        description: 'held-out negative log-likelihood per event, nats (the end token counts as one)',
        better: 'lower',
      },
      { name: 'bitsPerEvent', description: 'the same in bits', better: 'lower' },
    ],
    goal: { metric: 'nll', op: '<=', beat: ['unigram', 'bigram'] },
    positions: 'events',
    async train(ctx, opts = {}) {
      const plan = tasks.trainingPlan(ctx, who, opts, MUSIC_TRAINING, options.training);
      const config: MusicTransformerConfig = { ...MUSIC_MODEL, ...options.config, seed: plan.seed + 1 };
      const { train } = await data();
      const pieces = train.map(pieceTokens);
      const events = pieces.reduce((n, p) => n + p.length, 0);
      return await tasks.trainAndSave(ctx, who, plan, {
        build: () => new MusicTransformer(ctx.device, config),
        describe: (model) =>
          `${who}: ${config.nLayer} layers x ${config.nEmbd}, block ${config.blockSize} (${model.numParameters()} parameters) on ${pieces.length} pieces (${events} tokens), ${ctx.device.backend}`,
        train: (model) => trainMusic(ctx, model, pieces, plan.h, plan.run),
        preprocessing: {
          events: 'music-transformer-388',
          vocabSize: EVENT_VOCAB_SIZE,
          bos: BOS,
          eos: EOS,
          pad: PAD,
        },
      });
    },
    async evaluate(ctx, opts = {}) {
      const { model, loaded } = await loadModel(ctx, task);
      try {
        const { train, test } = await data();
        const scored = test.slice(0, opts.limit ?? test.length).map(pieceTokens);
        const trainTokens = train.map(pieceTokens);
        const { nll, count } = await musicNll(model, scored);
        const { unigram, bigram } = fitMusicBaselines(trainTokens, EVENT_VOCAB_SIZE);
        const base = ngramNll(unigram, bigram, scored);
        const figures = (nats: number) => ({
          nll: Math.round((nats / count) * 1e4) / 1e4,
          bitsPerEvent: Math.round((nats / count / Math.LN2) * 1e4) / 1e4,
        });
        const sampleLength = options.evalSample ?? 512;
        const sample: number[] = [];
        if (sampleLength > 0) {
          for await (const id of sampleEvents(model, {
            events: sampleLength,
            temperature: 1,
            topP: 0.95,
            seed: ctx.seed ?? 0,
          }))
            sample.push(id);
        }
        return tasks.evalReport(task, {
          metrics: figures(nll),
          baselines: { unigram: figures(base.unigram), bigram: figures(base.bigram) },
          split: {
            name: 'held-out',
            description: `${scored.length} held-out pieces (split by file, seed 0): ${count} events, each with at least ${Math.floor(model.config.blockSize / 2)} events of context past the first window`,
          },
          examples: count,
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: {
            unigramAlpha: unigram.alpha,
            bigramStrength: bigram.strength,
            ...(sampleLength > 0 ? { sample: generationStats(sample, train) } : {}),
          },
        });
      } finally {
        model.dispose();
      }
    },
    run: (ctx, _input, params) =>
      tasks.streamingRun(async function* () {
        const p = tasks.resolveParams(task, params);
        const { model } = await loadModel(ctx, task);
        try {
          const events: number[] = [];
          let pending: string[] = [];
          const sampling: Sampling = {
            events: p['events'] as number,
            temperature: p['temperature'] as number,
            topP: p['topP'] as number,
            seed: ctx.seed ?? 0,
            ...(p['topK'] ? { topK: p['topK'] as number } : {}),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          };
          for await (const id of sampleEvents(model, sampling)) {
            if (id === EOS) break;
            events.push(id);
            pending.push(describeEvent(id));
            if (pending.length === 16) {
              yield { kind: 'events', events: pending } satisfies TaskPiece;
              pending = [];
            }
          }
          if (pending.length > 0) yield { kind: 'events', events: pending } satisfies TaskPiece;
          const { midi, wav } = artifactsOf(events);
          return {
            kind: 'midi',
            midi,
            events: events.length,
            artifacts: [
              { name: 'music.mid', mime: 'audio/midi', bytes: midi },
              { name: 'music.wav', mime: 'audio/wav', bytes: wav },
            ],
          };
        } finally {
          model.dispose();
        }
      }),
    async attention(ctx, _input, opts = {}): Promise<AttentionReport> {
      const { model } = await loadModel(ctx, task);
      try {
        // the maps read a sample of the model itself (the task takes no input): BOS and what follows
        const ids = [BOS];
        for await (const id of sampleEvents(model, {
          events: Math.min(127, model.config.blockSize - 1),
          temperature: 1,
          topP: 0.95,
          seed: ctx.seed ?? 0,
        })) {
          if (id !== EOS) ids.push(id);
        }
        const L = model.config.nLayer;
        const layers = attentionLayers(who, opts.layers, L);
        const maps = noGrad(() =>
          tidy(
            () =>
              model.forwardDetailed(
                ctx.device.tensor(Int32Array.from(ids), [1, ids.length], { dtype: 'i32' }),
                { attentionWeights: [...layers] },
              ).attentions,
          ),
        );
        const layerMaps = await tasks.attentionLayerMaps(maps, layers, model.config.nHead);
        return {
          positions: 'events',
          labels: ids.map(describeEvent),
          numLayers: L,
          layers: layerMaps,
          causal: true,
        };
      } finally {
        model.dispose();
      }
    },
    ...(options.committed === false ? {} : { committedCheckpoint: committedCheckpoint('music.safetensors') }),
  });
  return task;
}

export const musicTask: Task = createMusicTask();
