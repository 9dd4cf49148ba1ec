/**
 * Builds (or reads from the cache) the audio datasets from their Debian packages and prints what they
 * hold: the spoken digits (espeak-ng training clips and the three held-out sets) and the MIDI corpus.
 *
 *   pnpm --filter @multihead/audio exec tsx scripts/check-data.ts [--count 3000] [--held-out 550] [--seed 0]
 *
 * Needs espeak-ng, flite, asterisk-core-sounds-en-wav, openttd-openmsx, mma and abcmidi; a missing one
 * is named in the error.
 */
import {
  listEspeakVoices,
  loadMidiCorpus,
  loadSpokenDigits,
  type MidiPiece,
  SPOKEN_DIGITS_RATE,
  type SpokenDigit,
} from '../src/index.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

function describeClips(name: string, clips: SpokenDigit[]): string {
  const seconds = clips.map((clip) => clip.samples.length / SPOKEN_DIGITS_RATE);
  const perLabel = Array.from({ length: 10 }, (_, label) => clips.filter((c) => c.label === label).length);
  const voices = new Set(clips.map((clip) => clip.voice)).size;
  const mean = seconds.reduce((a, b) => a + b, 0) / Math.max(1, seconds.length);
  return (
    `${name.padEnd(16)} ${String(clips.length).padStart(5)} clips, ${String(voices).padStart(4)} voices, ` +
    `${mean.toFixed(2)} s mean (${Math.min(...seconds).toFixed(2)}-${Math.max(...seconds).toFixed(2)}), ` +
    `per label [${perLabel.join(' ')}]`
  );
}

const count = argument('count', 3000);
const heldOutCount = argument('held-out', 550);
const seed = argument('seed', 0);

const voices = await listEspeakVoices();
console.log(
  `espeak-ng: ${voices.languages.length} English voices (${voices.languages.join(', ')}), ${voices.variants.length - 1} variants`,
);
let started = performance.now();
let lastReport = 0;
const digits = await loadSpokenDigits({
  count,
  heldOutCount,
  seed,
  onProgress: (done, total) => {
    if (performance.now() - lastReport > 10_000 || done === total) {
      lastReport = performance.now();
      console.log(`  ... ${done}/${total} clips`);
    }
  },
});
console.log(
  `spoken digits at ${digits.sampleRate} Hz (${((performance.now() - started) / 1000).toFixed(1)} s):`,
);
console.log(describeClips('train (espeak)', digits.train));
console.log(describeClips('held-out espeak', digits.heldOut.espeak));
console.log(describeClips('held-out flite', digits.heldOut.flite));
console.log(describeClips('held-out asterisk', digits.heldOut.asterisk));
console.log(
  `held-out espeak-ng voices: language ${digits.heldOutVoices.languages.join(', ')}; variants ${digits.heldOutVoices.variants.join(', ')}`,
);

started = performance.now();
const corpus = await loadMidiCorpus({ seed });
const events = (pieces: MidiPiece[]) => pieces.reduce((n, p) => n + p.events.length, 0);
const hours = (pieces: MidiPiece[]) => pieces.reduce((s, p) => s + p.seconds, 0) / 3600;
console.log(`MIDI corpus (${((performance.now() - started) / 1000).toFixed(1)} s):`);
console.log(
  `  files: ${Object.entries(corpus.counts.files)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ')}`,
);
console.log(`  pieces: ${corpus.counts.pieces}, events: ${corpus.counts.events}`);
console.log(
  `  train: ${corpus.train.length} pieces, ${events(corpus.train)} events, ${hours(corpus.train).toFixed(2)} h`,
);
console.log(
  `  test:  ${corpus.test.length} pieces, ${events(corpus.test)} events, ${hours(corpus.test).toFixed(2)} h`,
);
for (const { id, reason } of corpus.counts.skipped) console.log(`  skipped ${id}: ${reason}`);
