/**
 * The spoken-digit dataset: training clips from espeak-ng and three held-out test sets that a model
 * trained on them has never heard: espeak-ng voices kept out of training, another synthesizer (Debian's
 * flite: voices awb, kal, kal16, rms, slt at three speaking rates) and real recordings (Debian's
 * asterisk-core-sounds-en-wav: Allison's digits 0-9 and "oh", 8 kHz telephone prompts). All clips are
 * 16 kHz mono float32, trimmed of silence (digit-clips.ts), cached in the shared dataset folder.
 */
import { ioError } from '../io/errors.js';
import { nodeFs, nodePath } from '../io/node.js';
import {
  type BuildOptions,
  cachedDigitClips,
  DIGIT_WORDS,
  type DigitWord,
  digitLabel,
  SPOKEN_DIGITS_RATE,
  type SpokenDigit,
  type SynthesisJob,
} from './digit-clips.js';
import { type EspeakDigitsOptions, type EspeakVoices, loadEspeakDigits } from './espeak-digits.js';
import { debianPackageFiles, runTool, withTempDir } from './tools.js';

/** flite's general-purpose voices (awb_time, also installed, only speaks clock times). */
export const FLITE_VOICES = ['awb', 'kal', 'kal16', 'rms', 'slt'] as const;
/** flite `--setf duration_stretch`: faster, normal and slower speech. */
export const FLITE_STRETCHES = [0.85, 1, 1.2] as const;

/** Every flite voice x stretch x word: 5 x 3 x 11 = 165 clips. */
export async function loadFliteDigits(options: BuildOptions = {}): Promise<SpokenDigit[]> {
  return cachedDigitClips('spoken-digits-flite.v1', options, async () => {
    const installed = new TextDecoder().decode(await runTool('flite', ['-lv'], { debianPackage: 'flite' }));
    const missing = FLITE_VOICES.filter((voice) => !installed.split(/\s+/).includes(voice));
    if (missing.length > 0)
      ioError(`flite lacks the voices ${missing.join(', ')} (flite -lv: ${installed.trim()})`);
    const jobs: SynthesisJob[] = [];
    for (const voice of FLITE_VOICES) {
      for (const stretch of FLITE_STRETCHES) {
        for (const word of DIGIT_WORDS) {
          jobs.push({
            meta: { word, label: digitLabel(word), source: 'flite', voice, stretch },
            // flite seeks back to fill in the WAV header, so it writes to a file, not a pipe
            wav: () =>
              withTempDir('flite', async (dir) => {
                const out = (await nodePath()).join(dir, 'word.wav');
                const args = [
                  '-voice',
                  voice,
                  '--setf',
                  `duration_stretch=${stretch}`,
                  '-t',
                  word,
                  '-o',
                  out,
                ];
                await runTool('flite', args, { debianPackage: 'flite' });
                return new Uint8Array(await (await nodeFs()).readFile(out));
              }),
          });
        }
      }
    }
    return jobs;
  });
}

const ASTERISK_PACKAGE = 'asterisk-core-sounds-en-wav';

/** Asterisk's recorded prompts digits/0.wav ... digits/9.wav and digits/oh.wav, for each speaker found. */
export async function loadAsteriskDigits(options: BuildOptions = {}): Promise<SpokenDigit[]> {
  return cachedDigitClips('spoken-digits-asterisk.v1', options, async () => {
    const files = await debianPackageFiles(ASTERISK_PACKAGE);
    const jobs: SynthesisJob[] = [];
    for (const file of files.sort()) {
      // /usr/share/asterisk/sounds/<speaker>/digits/<n>.wav
      const match = /\/sounds\/([^/]+)\/digits\/([0-9]|oh)\.wav$/.exec(file);
      if (match === null) continue;
      const word: DigitWord = match[2] === 'oh' ? 'oh' : DIGIT_WORDS[Number(match[2])]!;
      jobs.push({
        meta: { word, label: digitLabel(word), source: 'asterisk', voice: match[1]! },
        wav: async () => new Uint8Array(await (await nodeFs()).readFile(file)),
      });
    }
    if (jobs.length === 0) ioError(`${ASTERISK_PACKAGE} is installed but has no digits/<n>.wav files`);
    return jobs;
  });
}

export interface SpokenDigitsOptions extends EspeakDigitsOptions {}

export interface SpokenDigits {
  sampleRate: typeof SPOKEN_DIGITS_RATE;
  /** espeak-ng clips (training voices only). */
  train: SpokenDigit[];
  heldOut: {
    /** espeak-ng clips whose language or variant never occurs in train. */
    espeak: SpokenDigit[];
    flite: SpokenDigit[];
    asterisk: SpokenDigit[];
  };
  /** The espeak-ng language and variants kept out of training. */
  heldOutVoices: EspeakVoices;
}

/**
 * The whole dataset. The first call synthesizes everything (a few minutes: 3550 espeak-ng and 165 flite
 * clips at the defaults); later calls read the cache.
 */
export async function loadSpokenDigits(options: SpokenDigitsOptions = {}): Promise<SpokenDigits> {
  const espeak = await loadEspeakDigits(options);
  const flite = await loadFliteDigits(options);
  const asterisk = await loadAsteriskDigits(options);
  return {
    sampleRate: SPOKEN_DIGITS_RATE,
    train: espeak.train,
    heldOut: { espeak: espeak.heldOut, flite, asterisk },
    heldOutVoices: espeak.heldOutVoices,
  };
}
