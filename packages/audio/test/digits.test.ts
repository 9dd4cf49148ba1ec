/**
 * The spoken-digit pipeline without the Debian tools: voice tables parsed from espeak-ng's own output
 * (copied below), the seeded plan (balanced labels, held-out voices never in training), the clip
 * preparation on committed WAVs (espeak-ng at 22050 Hz, flite's kal at 8 kHz) and the clip cache.
 * scripts/check-data.ts builds the real sets with espeak-ng, flite and asterisk's recordings.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cachedDigitClips,
  DIGIT_WORDS,
  digitLabel,
  prepareDigitClip,
  type SynthesisJob,
} from '../src/data/digit-clips.js';
import { espeakVoiceName, parseEspeakVoices, planEspeakDigits } from '../src/data/espeak-digits.js';
import { decodeWav, encodeWav } from '../src/index.js';

const FIXTURES = new URL('./fixtures/wav/', import.meta.url).pathname;
const fixture = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));
const cacheDir = mkdtempSync(join(tmpdir(), 'multihead-digits-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

// excerpts of `espeak-ng --voices=en` and `espeak-ng --voices=variant` (espeak-ng 1.51, Debian 12)
const LANGUAGES = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 3  en-uk           --/M      english-mb-en1     mb/mb-en1            (en-gb 3)(en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  en-gb-scotland  --/M      English_(Scotland) gmw/en-GB-scotland   (en 4)
 5  en-us           --/M      us-mbrola-2        mb/mb-us2            (en 7)
 5  en-029          --/M      English_(Caribbean) gmw/en-029           (en 10)
 5  variant         --/M      Storm              !v/Storm             (en-us 5)
`;
const VARIANTS = `Pty Language       Age/Gender VoiceName          File                 Other Languages
${['f1', 'f2', 'f3', 'f4', 'f5', 'm1', 'm2', 'm3', 'klatt', 'klatt3', 'whisper']
  .map((v) => ` 5  variant         --/M      ${v.padEnd(18)} !v/${v.padEnd(17)}`)
  .join('\n')}
 5  variant         --/M      Mr_Serious         !v/Mr serious        
 5  variant         --/M      Storm              !v/Storm             (en-us 5)
`;

describe('espeak-ng voices and the plan', () => {
  const voices = parseEspeakVoices(LANGUAGES, VARIANTS);

  it('parses the tables: no MBROLA voices, variant names with spaces, the plain voice as ""', () => {
    expect(voices.languages).toEqual(['en-029', 'en-gb', 'en-gb-scotland', 'en-us']);
    expect(voices.variants).toContain('');
    expect(voices.variants).toContain('Mr serious');
    expect(voices.variants).toContain('Storm');
    expect(voices.variants).toHaveLength(14);
    expect(espeakVoiceName({ language: 'en-us', variant: 'f3' })).toBe('en-us+f3');
    expect(espeakVoiceName({ language: 'en-gb', variant: '' })).toBe('en-gb');
  });

  it('plans balanced labels, seeded, with held-out voices never used in training', () => {
    const plan = planEspeakDigits(voices, { count: 200, heldOutCount: 60, seed: 5 });
    expect(plan).toEqual(planEspeakDigits(voices, { count: 200, heldOutCount: 60, seed: 5 }));
    expect(plan.train.map((c) => c.word)).not.toEqual(
      planEspeakDigits(voices, { count: 200, heldOutCount: 60, seed: 6 }).train.map((c) => c.word),
    );
    const labels = plan.train.map((c) => digitLabel(c.word));
    for (let label = 0; label < 10; label++) expect(labels.filter((l) => l === label)).toHaveLength(20);
    const zeros = plan.train.filter((c) => digitLabel(c.word) === 0).map((c) => c.word);
    expect(new Set(zeros)).toEqual(new Set(['zero', 'oh']));
    const { languages, variants } = plan.heldOutVoices;
    expect(languages).toHaveLength(1);
    expect(variants).toHaveLength(2); // ceil(13 named variants / 10)
    expect(variants).not.toContain('');
    for (const clip of plan.train) {
      expect(languages).not.toContain(clip.language);
      expect(variants).not.toContain(clip.variant);
      expect(clip.pitch).toBeGreaterThanOrEqual(20);
      expect(clip.pitch).toBeLessThanOrEqual(80);
      expect(clip.speed).toBeGreaterThanOrEqual(80);
      expect(clip.speed).toBeLessThanOrEqual(210);
    }
    for (const clip of plan.heldOut) {
      expect(languages.includes(clip.language) || variants.includes(clip.variant)).toBe(true);
    }
    expect(() => planEspeakDigits({ languages: ['en'], variants: [''] })).toThrow(
      /need at least 2 languages/,
    );
  });
});

describe('digit clips', () => {
  it('labels: zero..nine, and "oh" is 0', () => {
    expect(DIGIT_WORDS.map(digitLabel)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
  });

  it('prepares a clip: 16 kHz, trimmed to the word with 20 ms of margin', () => {
    const wav = fixture('seven-espeak-en-us.wav');
    const source = decodeWav(wav).channels[0]!;
    const peak = source.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const loud = source.map((x) => (Math.abs(x) > peak * 0.01 ? 1 : 0));
    const first = loud.indexOf(1);
    const last = loud.lastIndexOf(1);
    const margin = Math.round(0.02 * 22050);
    const kept = Math.min(source.length, last + 1 + margin) - Math.max(0, first - margin);
    const expected = Math.floor((kept * 16000) / 22050);
    const clip = prepareDigitClip(wav);
    expect(clip.length).toBe(expected);
    expect(clip.length).toBeLessThan((source.length * 16000) / 22050 - 1000); // espeak-ng's padding is gone
    // flite's kal voice speaks at 8 kHz: upsampled
    const kal = decodeWav(fixture('three-flite-kal.wav'));
    expect(kal.sampleRate).toBe(8000);
    expect(prepareDigitClip(fixture('three-flite-kal.wav')).length).toBeGreaterThan(kal.channels[0]!.length);
  });

  it('reads the streaming header of espeak-ng --stdout (sizes 0x7ffff000) and refuses silence', () => {
    const wav = fixture('seven-espeak-en-us.wav').slice();
    const view = new DataView(wav.buffer);
    view.setUint32(4, 0x7ffff024, true);
    view.setUint32(40, 0x7ffff000, true);
    expect(prepareDigitClip(wav)).toEqual(prepareDigitClip(fixture('seven-espeak-en-us.wav')));
    const silent = encodeWav({ sampleRate: 16000, channels: [new Float32Array(800)] });
    expect(() => prepareDigitClip(silent)).toThrow(/the clip is silent/);
  });

  it('builds a clip set once, then reads it from the cache', async () => {
    let made = 0;
    const jobs = (): SynthesisJob[] =>
      (['seven-espeak-en-us.wav', 'three-flite-kal.wav'] as const).map((file, i) => ({
        meta: {
          word: i === 0 ? 'seven' : 'three',
          label: i === 0 ? 7 : 3,
          source: 'espeak-ng',
          voice: `v${i}`,
        },
        wav: async () => {
          made++;
          return fixture(file);
        },
      }));
    const progress: number[] = [];
    const first = await cachedDigitClips(
      'test-digits.v1',
      { cacheDir, onProgress: (done) => progress.push(done) },
      async () => jobs(),
    );
    expect(made).toBe(2);
    expect(progress).toEqual([1, 2]);
    expect(readdirSync(cacheDir)).toContain('test-digits.v1.clips');
    expect(first.map((c) => [c.word, c.label, c.voice])).toEqual([
      ['seven', 7, 'v0'],
      ['three', 3, 'v1'],
    ]);
    expect(first[0]!.samples).toEqual(prepareDigitClip(fixture('seven-espeak-en-us.wav')));
    const again = await cachedDigitClips('test-digits.v1', { cacheDir }, async () => {
      throw new Error('the cache should have answered');
    });
    expect(made).toBe(2);
    expect(again).toEqual(first);
  });
});
