/**
 * audio/digits: which digit a spoken word is, for voices the model never heard. A spectrogram transformer
 * (models/spectrogram-transformer.ts) trained on espeak-ng's voices (data/espeak-digits.ts) with speed,
 * gain, noise and SpecAugment augmentation is scored apart on three held-out sets: espeak-ng voices kept
 * out of training, another synthesizer (flite's five voices), and real recordings (asterisk's prompts,
 * 8 kHz telephone audio: only 11 clips, so one clip moves the figure by 0.09). Baselines: logistic
 * regression and nearest centroid on each clip's mean and deviation of the log-mel, fitted in the same call.
 */
import { type AttentionReport, noGrad, type Task, type TaskContext, tasks, tidy } from '@multihead/core';
import { LogisticRegression, NearestCentroid } from '../baselines/clip-classifiers.js';
import { DIGIT_WORDS, SPOKEN_DIGITS_RATE } from '../data/digit-clips.js';
import { loadSpokenDigits } from '../data/spoken-digits.js';
import {
  SpectrogramTransformer,
  type SpectrogramTransformerConfig,
} from '../models/spectrogram-transformer.js';
import {
  type ClipFeatureConfig,
  clipFeatures,
  frameWidth,
  prepareClip,
  tokenTimes,
  windowFrames,
} from '../preprocess/clip-features.js';
import { inputAudio } from './audio-input.js';
import {
  type ClipClassifierTraining,
  centeredWindows,
  classifyClips,
  type LabelledClip,
  pooledFeatures,
  rowArgmax,
  trainClipClassifier,
} from './clip-classifier.js';
import { committedCheckpoint } from './committed.js';
import { attentionLayers } from './layers.js';
import { meanPoolRollout, spectrogramImage } from './spectrogram-maps.js';

export const DIGITS_TASK_ID = 'audio/digits';
/** The classes: "oh" is 0 (as in phone numbers). */
export const DIGIT_LABELS: readonly string[] = DIGIT_WORDS.slice(0, 10);

/**
 * 0.8 s windows (the longest held-out clip, a slow asterisk "seven", lasts 0.72 s trimmed; longer clips keep
 * their loudest 0.8 s) of 10 ms log-mel frames over 25 ms (Whisper's n_fft 400 / hop 160 at 16 kHz); 40 mel
 * bins from 20 Hz to 4 kHz, all that an 8 kHz telephone recording carries, so the model never leans on a
 * band the real recordings lack; an 80 dB floor under each clip's peak (Whisper's 8 log10 units); the
 * clip-mean-normalized copy beside the log-mel (preprocess/clip-features.ts: it removes a fixed filter,
 * a voice's or a line's overall timbre).
 */
export const DIGITS_FEATURES: ClipFeatureConfig = {
  sampleRate: SPOKEN_DIGITS_RATE,
  windowSamples: 12_800,
  nFft: 400,
  hopLength: 160,
  nMels: 40,
  fMin: 20,
  fMax: 4000,
  floorBelowMax: 8,
  clipMeanNormalized: true,
};

/**
 * Tokens of 4 frames (40 ms, about a phone's length: 20 tokens a window, so attention costs little next to
 * the projections); 3 pre-norm layers of 64 with 4 heads, feed-forward 128, 123k parameters: small enough
 * for ~3000 steps of 32 clips in the 18-minute budget on 2 CPU cores, and a 0.5 MB checkpoint.
 */
export const DIGITS_MODEL: Omit<SpectrogramTransformerConfig, 'seed'> = {
  frameFeatures: frameWidth(DIGITS_FEATURES),
  maxFrames: windowFrames(DIGITS_FEATURES),
  frameStride: 4,
  dModel: 64,
  nHead: 4,
  nLayer: 3,
  dimFeedforward: 128,
  dropout: 0.1,
  numClasses: 10,
};

export const DIGITS_TRAINING: ClipClassifierTraining & { maxSeconds: number } = {
  /** More than the budget allows on the 2-core machine: the time budget ends the default run. */
  steps: 8000,
  /**
   * The default run stops here at the latest: 18 minutes, so `multihead train audio/digits` (data
   * loading and the save included) ends within 20 minutes; the cosine schedule bends to the budget.
   */
  maxSeconds: 1080,
  batchSize: 32,
  /** AdamW at 2e-3 with 50 warmup steps, cosine to 1e-5: the small model trains stably at this rate. */
  lr: 2e-3,
  minLr: 1e-5,
  warmupSteps: 50,
  weightDecay: 0.05,
  /** Synthetic voices are overconfident teachers: smoothing keeps the logits from growing on their quirks. */
  labelSmoothing: 0.1,
  clipGradNorm: 1,
  augmentation: {
    /**
     * A speed change on 4 clips in 5 (Ko et al. 2015 train on 3 copies at 0.9, 1.0, 1.1): tempo, pitch
     * and formants move together, as between a longer and a shorter vocal tract; 0.85-1.18 spans the
     * formant ratio of men's to women's voices (~1.15-1.2) without chipmunk voices.
     */
    speed: { p: 0.8, min: 0.85, max: 1.18 },
    /** Level does not matter to the peak-scaled features, except through clipping at full scale. */
    gainDb: { p: 0.5, min: -10, max: 10 },
    /** espeak-ng's clips are noiseless; a recording has a noise floor (0 dB SNR to near-clean). */
    noise: { p: 0.5, min: 0, max: 35 },
  },
  /**
   * Two time and two frequency masks as Park et al.'s LibriSpeech policies, but narrower (8 of 80 frames,
   * 6 of 40 bins): a digit is one short word, and a wide time mask can erase the phone that tells it.
   */
  specAugment: { timeMasks: 2, timeWidth: 8, freqMasks: 2, freqWidth: 6 },
  /** Half the clips through a random +-12 dB equalizer: microphones and telephone lines colour the spectrum. */
  equalizer: { p: 0.5, maxDb: 12 },
};

export interface DigitSets {
  train: LabelledClip[];
  heldOut: { espeak: LabelledClip[]; flite: LabelledClip[]; asterisk: LabelledClip[] };
}

export interface DigitsOptions {
  /** Feature overrides (tests use short windows); the model's frames and width follow them. */
  features?: Partial<ClipFeatureConfig>;
  config?: Partial<SpectrogramTransformerConfig>;
  training?: Partial<ClipClassifierTraining>;
  /** The data (default: loadSpokenDigits, built from the Debian packages and cached). */
  data?: () => Promise<DigitSets>;
  /** Fall back to the checkpoint shipped with the package (default true). */
  committed?: boolean;
}

interface DigitsPreprocessing {
  features: ClipFeatureConfig;
  labels: string[];
}

async function loadModel(ctx: TaskContext, task: Task) {
  const loaded = await tasks.loadTaskCheckpoint<SpectrogramTransformerConfig, DigitsPreprocessing>(ctx, task);
  const model = new SpectrogramTransformer(ctx.device, loaded.config);
  model.loadStateDict(loaded.checkpoint.model);
  model.eval();
  return { model, features: loaded.preprocessing.features, loaded };
}

const SETS = ['espeak', 'flite', 'asterisk'] as const;
const metricName = (set: (typeof SETS)[number]) => `accuracy${set[0]!.toUpperCase()}${set.slice(1)}`;

/** accuracyFlite, accuracyAsterisk, accuracyEspeak and their goal metric, the lower of the first two. */
function setMetrics(accuracy: Record<(typeof SETS)[number], number>): Record<string, number> {
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const out: Record<string, number> = { accuracyUnseen: round(Math.min(accuracy.flite, accuracy.asterisk)) };
  for (const set of SETS) out[metricName(set)] = round(accuracy[set]);
  return out;
}

export function createDigitsTask(options: DigitsOptions = {}): Task {
  const data = options.data ?? (() => loadSpokenDigits());
  const trainFeatures: ClipFeatureConfig = { ...DIGITS_FEATURES, ...options.features };
  const who = DIGITS_TASK_ID;
  const inputClip = async (input: unknown, sampleRate: number) =>
    prepareClip(await inputAudio(input as object, who, { maxSeconds: 30 }), sampleRate, who);
  const task: Task = tasks.defineTask({
    id: DIGITS_TASK_ID,
    kind: 'classify',
    description:
      'spoken digits, tested on voices never heard (another synthesizer, real recordings): a spectrogram transformer vs log-mel baselines',
    input: {
      kind: 'audio',
      description:
        'one spoken digit, zero to nine or "oh" (a WAV file, samples or an AudioBuffer; up to 30 s, trimmed of silence)',
      accept: ['.wav', 'audio/wav', 'audio/*'],
    },
    output: {
      kind: 'label',
      labels: DIGIT_LABELS,
      description: 'the digit ("oh" is zero), with probabilities',
    },
    metrics: [
      {
        name: 'accuracyUnseen',
        description: 'the lower of accuracyFlite and accuracyAsterisk',
        better: 'higher',
      },
      {
        name: 'accuracyFlite',
        description: "flite's 5 voices x 3 rates x 11 words (another synthesizer)",
        better: 'higher',
      },
      {
        name: 'accuracyAsterisk',
        description: "asterisk's 11 recorded prompts (a real voice, 8 kHz)",
        better: 'higher',
      },
      { name: 'accuracyEspeak', description: 'espeak-ng voices kept out of training', better: 'higher' },
    ],
    goal: { metric: 'accuracyUnseen', op: '>=', value: 0.9 },
    positions: 'frames',
    async train(ctx, opts = {}) {
      const plan = tasks.trainingPlan(ctx, who, opts, DIGITS_TRAINING, options.training);
      const config: SpectrogramTransformerConfig = {
        ...DIGITS_MODEL,
        frameFeatures: frameWidth(trainFeatures),
        maxFrames: windowFrames(trainFeatures),
        ...options.config,
        seed: plan.seed + 1,
      };
      const { train } = await data();
      return await tasks.trainAndSave(ctx, who, plan, {
        build: () => new SpectrogramTransformer(ctx.device, config),
        describe: (model) =>
          `${who}: ${config.nLayer} layers x ${config.dModel}, tokens of ${config.frameStride} frames (${model.numParameters()} parameters) on ${train.length} clips, ${ctx.device.backend}`,
        train: (model) => trainClipClassifier(ctx, model, train, trainFeatures, plan.h, plan.run),
        preprocessing: { features: trainFeatures, labels: [...DIGIT_LABELS] },
      });
    },
    async evaluate(ctx, opts = {}) {
      const { model, features, loaded } = await loadModel(ctx, task);
      try {
        const sets = await data();
        const limit = (clips: LabelledClip[]) => clips.slice(0, opts.limit ?? clips.length);
        const held = {
          espeak: limit(sets.heldOut.espeak),
          flite: limit(sets.heldOut.flite),
          asterisk: limit(sets.heldOut.asterisk),
        };
        const train = opts.limit === undefined ? sets.train : sets.train.slice(0, 6 * opts.limit);
        const fit = {
          x: await pooledFeatures(
            ctx.device,
            train.map((c) => c.samples),
            features,
          ),
          labels: train.map((c) => c.label),
          count: train.length,
          dims: 2 * features.nMels,
          classes: 10,
        };
        const logistic = LogisticRegression.fit(fit, { seed: ctx.seed ?? 0 });
        const centroid = NearestCentroid.fit(fit);
        const score = { model: {}, logisticRegression: {}, nearestCentroid: {} } as Record<
          string,
          Record<string, number>
        >;
        const missed: string[] = [];
        for (const set of SETS) {
          const clips = held[set];
          const accuracy = (predicted: Int32Array) =>
            predicted.filter((p, i) => p === clips[i]!.label).length / Math.max(1, clips.length);
          const predicted = rowArgmax(
            await classifyClips(
              model,
              clips.map((c) => c.samples),
              features,
            ),
            10,
          );
          for (const [i, c] of clips.entries()) {
            if (set === 'asterisk' && predicted[i] !== c.label) {
              missed.push(`${DIGIT_LABELS[c.label]} -> ${DIGIT_LABELS[predicted[i]!]}`);
            }
          }
          const pooled = await pooledFeatures(
            ctx.device,
            clips.map((c) => c.samples),
            features,
          );
          score['model']![set] = accuracy(predicted);
          score['logisticRegression']![set] = accuracy(logistic.predict(pooled));
          score['nearestCentroid']![set] = accuracy(centroid.predict(pooled));
        }
        const asMetrics = (s: Record<string, number>) =>
          setMetrics(s as Record<(typeof SETS)[number], number>);
        const counts = Object.fromEntries(SETS.map((s) => [s, held[s].length]));
        return tasks.evalReport(task, {
          metrics: asMetrics(score['model']!),
          baselines: {
            logisticRegression: asMetrics(score['logisticRegression']!),
            nearestCentroid: asMetrics(score['nearestCentroid']!),
          },
          split: {
            name: 'held-out',
            description: `voices never trained on: ${counts['espeak']} espeak-ng clips of held-out voices, ${counts['flite']} flite clips, ${counts['asterisk']} asterisk recordings (11 clips: one is 0.09 of accuracyAsterisk); baselines fitted on ${train.length} training clips`,
          },
          examples: SETS.reduce((n, s) => n + held[s].length, 0),
          checkpoint: { location: loaded.location, source: loaded.source, step: loaded.step },
          details: {
            clips: counts,
            asteriskMistakes: missed,
            logisticL2: logistic.l2,
            backend: ctx.device.backend,
          },
        });
      } finally {
        model.dispose();
      }
    },
    run: (ctx, input) =>
      tasks.resultRun(async () => {
        const { model, features } = await loadModel(ctx, task);
        try {
          const clip = await inputClip(input, features.sampleRate);
          const probs = await classifyClips(model, [clip], features);
          const scores = DIGIT_LABELS.map((label, i) => ({ label, probability: probs[i]! }));
          return { kind: 'label', label: DIGIT_LABELS[rowArgmax(probs, 10)[0]!]!, scores };
        } finally {
          model.dispose();
        }
      }),
    async attention(ctx, input, opts = {}): Promise<AttentionReport> {
      const { model, features } = await loadModel(ctx, task);
      try {
        const clip = await inputClip(input, features.sampleRate);
        const L = model.config.nLayer;
        const layers = attentionLayers(who, opts.layers, L);
        const { windows, spans } = centeredWindows([clip], features);
        const x = clipFeatures(ctx.device, windows, 1, features, spans); // [1, frames, width]
        const { attentions } = noGrad(() =>
          tidy(() => ({ attentions: model.forwardDetailed(x, { attentionWeights: true }).attentions })),
        );
        const spectrogram = (await x.read()) as Float32Array;
        x.dispose();
        const maps = await Promise.all(attentions.map(async (t) => (await t!.read()) as Float32Array));
        for (const t of attentions) t?.dispose();
        const tokens = model.maxTokens;
        return {
          positions: 'frames',
          labels: tokenTimes(features, model.config.frameStride),
          numLayers: L,
          layers: layers.map((layer) => ({ layer, heads: model.config.nHead, weights: maps[layer]! })),
          causal: false,
          grid: [1, tokens],
          gridOffset: 0,
          rollout: meanPoolRollout(maps, model.config.nHead, tokens),
          background: spectrogramImage(
            spectrogram,
            windowFrames(features),
            features.nMels,
            frameWidth(features),
          ),
        };
      } finally {
        model.dispose();
      }
    },
    ...(options.committed === false
      ? {}
      : { committedCheckpoint: committedCheckpoint('digits.safetensors') }),
  });
  return task;
}

export const digitsTask: Task = createDigitsTask();
