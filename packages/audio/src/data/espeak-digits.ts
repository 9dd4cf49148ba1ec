/**
 * Spoken digits synthesized with Debian's espeak-ng: its English voices (`espeak-ng --voices=en`, the
 * MBROLA ones left out: they need the separate mbrola package) crossed with its voice variants
 * (`--voices=variant`: f1-f5, m1-m8, klatt, whisper, ...), at seeded pitches and speeds. Some voices are
 * kept out of training (one language and a tenth of the variants, chosen by the seed) and make the
 * held-out espeak-ng test set, so a model is tested on voices it never heard.
 */
import { seededUniform } from '@multihead/core';
import { invalidArgument } from '../io/errors.js';
import {
  type BuildOptions,
  cachedDigitClips,
  DIGIT_WORDS,
  type DigitWord,
  digitLabel,
  type SpokenDigit,
  type SynthesisJob,
} from './digit-clips.js';
import { integerBetween, pick, seededShuffle } from './split.js';
import { runTool } from './tools.js';

export interface EspeakVoices {
  /** Language voices, e.g. en-us, en-gb-scotland. */
  languages: string[];
  /** Variant names, e.g. f3, klatt2, whisper ('' = the language's own voice). */
  variants: string[];
}

/** Reads the tables `espeak-ng --voices=en` and `espeak-ng --voices=variant` print. */
export function parseEspeakVoices(languageTable: string, variantTable: string): EspeakVoices {
  const rows = (table: string) => table.split('\n').filter((line) => /^\s*\d+\s/.test(line));
  const languages = new Set<string>();
  for (const row of rows(languageTable)) {
    const [, language, , , file] = row.trim().split(/\s+/);
    if (language !== undefined && file !== undefined && language !== 'variant' && !file.startsWith('mb/')) {
      languages.add(language);
    }
  }
  const variants = new Set<string>(['']);
  for (const row of rows(variantTable)) {
    // the File column is "!v/<name>"; a name may hold single spaces ("Mr serious")
    const name = /!v\/(\S+(?: \S+)*)/.exec(row)?.[1];
    if (name !== undefined) variants.add(name);
  }
  return { languages: [...languages].sort(), variants: [...variants].sort() };
}

/** The installed espeak-ng's English voices and variants. */
export async function listEspeakVoices(): Promise<EspeakVoices> {
  const text = async (args: string[]) =>
    new TextDecoder().decode(await runTool('espeak-ng', args, { debianPackage: 'espeak-ng' }));
  return parseEspeakVoices(await text(['--voices=en']), await text(['--voices=variant']));
}

export interface EspeakClipSpec {
  word: DigitWord;
  language: string;
  variant: string;
  /** espeak-ng -p, 0-99 (default 50). */
  pitch: number;
  /** espeak-ng -s, words per minute (default 175). */
  speed: number;
}

export interface EspeakPlanOptions {
  /** Training clips (default 3000). */
  count?: number;
  /** Held-out clips (default 550). */
  heldOutCount?: number;
  /** Default 0. */
  seed?: number;
}

export interface EspeakPlan {
  train: EspeakClipSpec[];
  heldOut: EspeakClipSpec[];
  heldOutVoices: EspeakVoices;
}

const PITCHES = [20, 80] as const;
/**
 * Words per minute, from espeak-ng's slowest (80) to brisk: real prompts are said slowly and with care
 * (asterisk's digits last 0.48-0.72 s trimmed, while 130-210 wpm gave espeak-ng clips of 0.40 s median and
 * 0.60 s at the 95th percentile), and a slow espeak-ng lengthens vowels as a slow speaker does, which a
 * uniform speed change cannot (it also lowers the pitch and the formants).
 */
const SPEEDS = [80, 210] as const;

/**
 * Seeded list of clips: labels 0-9 in equal numbers (label 0 said as "zero" or "oh" at random),
 * random voice, pitch and speed. Training voices use neither a held-out language nor a held-out variant;
 * held-out clips use at least one of them.
 */
export function planEspeakDigits(voices: EspeakVoices, options: EspeakPlanOptions = {}): EspeakPlan {
  const count = options.count ?? 3000;
  const heldOutCount = options.heldOutCount ?? 550;
  const seed = options.seed ?? 0;
  for (const [name, value] of Object.entries({ count, heldOutCount })) {
    if (!Number.isInteger(value) || value < 0)
      invalidArgument(`planEspeakDigits: ${name} must be a non-negative integer, got ${value}`);
  }
  if (voices.languages.length < 2 || voices.variants.length < 11) {
    invalidArgument(
      `planEspeakDigits: need at least 2 languages and 11 variants to hold some out, got ${voices.languages.length} and ${voices.variants.length}`,
    );
  }
  const heldLanguages = seededShuffle(voices.languages, seed).slice(0, 1);
  const named = voices.variants.filter((v) => v !== '');
  const heldVariants = seededShuffle(named, seed + 1).slice(0, Math.ceil(named.length / 10));
  const trainLanguages = voices.languages.filter((l) => !heldLanguages.includes(l));
  const trainVariants = voices.variants.filter((v) => !heldVariants.includes(v));
  const random = seededUniform(seed + 2);
  const clip = (i: number, language: string, variant: string): EspeakClipSpec => {
    const label = i % 10;
    const word: DigitWord = label === 0 ? (random() < 0.5 ? 'zero' : 'oh') : DIGIT_WORDS[label]!;
    return {
      word,
      language,
      variant,
      pitch: integerBetween(PITCHES[0], PITCHES[1], random),
      speed: integerBetween(SPEEDS[0], SPEEDS[1], random),
    };
  };
  const train = Array.from({ length: count }, (_, i) =>
    clip(i, pick(trainLanguages, random), pick(trainVariants, random)),
  );
  const heldOut = Array.from({ length: heldOutCount }, (_, i) =>
    // half with a held-out language (any variant), half with a held-out variant (a training language)
    random() < 0.5
      ? clip(i, pick(heldLanguages, random), pick(voices.variants, random))
      : clip(i, pick(trainLanguages, random), pick(heldVariants, random)),
  );
  return { train, heldOut, heldOutVoices: { languages: heldLanguages, variants: heldVariants } };
}

/** espeak-ng's `-v` argument. */
export const espeakVoiceName = (spec: Pick<EspeakClipSpec, 'language' | 'variant'>): string =>
  spec.variant === '' ? spec.language : `${spec.language}+${spec.variant}`;

function espeakJob(spec: EspeakClipSpec): SynthesisJob {
  const voice = espeakVoiceName(spec);
  const args = ['--stdout', '-v', voice, '-p', String(spec.pitch), '-s', String(spec.speed), spec.word];
  return {
    meta: {
      word: spec.word,
      label: digitLabel(spec.word),
      source: 'espeak-ng',
      voice,
      pitch: spec.pitch,
      speed: spec.speed,
    },
    wav: () => runTool('espeak-ng', args, { debianPackage: 'espeak-ng' }),
  };
}

export interface EspeakDigitsOptions extends EspeakPlanOptions, BuildOptions {}

export interface EspeakDigits {
  train: SpokenDigit[];
  heldOut: SpokenDigit[];
  heldOutVoices: EspeakVoices;
}

/** The espeak-ng training clips and the held-out espeak-ng clips (cached; the first build runs espeak-ng). */
export async function loadEspeakDigits(options: EspeakDigitsOptions = {}): Promise<EspeakDigits> {
  const { count = 3000, heldOutCount = 550, seed = 0 } = options;
  let plan: EspeakPlan | undefined;
  const getPlan = async () => {
    plan ??= planEspeakDigits(await listEspeakVoices(), { count, heldOutCount, seed });
    return plan;
  };
  const key = `n${count}-h${heldOutCount}-s${seed}`;
  const train = await cachedDigitClips(`spoken-digits-espeak-train.v2-${key}`, options, async () =>
    (await getPlan()).train.map(espeakJob),
  );
  const heldOut = await cachedDigitClips(`spoken-digits-espeak-heldout.v2-${key}`, options, async () =>
    (await getPlan()).heldOut.map(espeakJob),
  );
  // which voices were held out, from the clips themselves (no espeak-ng needed once cached)
  const trainVoices = new Set(train.map((clip) => clip.voice));
  const languages = [...new Set(heldOut.map((c) => c.voice.split('+')[0]!))].filter(
    (language) => ![...trainVoices].some((v) => v.split('+')[0] === language),
  );
  const variants = [...new Set(heldOut.map((c) => c.voice.split('+')[1] ?? ''))].filter(
    (variant) => ![...trainVoices].some((v) => (v.split('+')[1] ?? '') === variant),
  );
  return { train, heldOut, heldOutVoices: { languages: languages.sort(), variants: variants.sort() } };
}
