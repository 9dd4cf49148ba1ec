/**
 * A MIDI corpus from Debian packages, as performance events (music/events.ts): the game music of
 * openttd-openmsx, the example songs of mma (Musical MIDI Accompaniment), and the example tunes of
 * abcmidi converted with its own abc2midi (one MIDI file per tune). Gzipped files (`.mid.gz`,
 * `.abc.gz`) are read too. Split by file with a seed, so no piece has events on both sides.
 */
import { io } from '@multihead/core';
import { ioError } from '../io/errors.js';
import { nodeFs, nodePath, nodeZlib } from '../io/node.js';
import { type EncodeMidiOptions, encodeMidi } from '../music/events.js';
import { readMidi } from '../music/midi.js';
import { type SplitOptions, splitTrainTest } from './split.js';
import { debianPackageFiles, mapLimit, runTool, withTempDir } from './tools.js';

export type MidiSource = 'openttd-openmsx' | 'mma' | 'abcmidi';
export const MIDI_SOURCES: readonly MidiSource[] = ['openttd-openmsx', 'mma', 'abcmidi'];

export interface MidiPiece {
  /** `<source>/<file>` (abcmidi: `abcmidi/<file>#<tune number>`). */
  id: string;
  source: MidiSource;
  /** Performance events (no BOS/EOS). */
  events: number[];
  /** Notes encoded, and the piece's length in seconds (@tonejs/midi's duration). */
  notes: number;
  seconds: number;
}

export interface MidiCorpusCounts {
  files: Record<MidiSource, number>;
  /** Files that did not parse or convert, with the reason. */
  skipped: { id: string; reason: string }[];
  pieces: number;
  events: number;
}

export interface MidiCorpus {
  train: MidiPiece[];
  test: MidiPiece[];
  counts: MidiCorpusCounts;
}

export interface MidiCorpusOptions
  extends SplitOptions,
    io.CacheOptions,
    Pick<EncodeMidiOptions, 'drums' | 'sustain'> {}

/** A file's bytes, gunzipped when its name ends in .gz. */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await (await nodeFs()).readFile(file));
  return file.endsWith('.gz') ? new Uint8Array((await nodeZlib()).gunzipSync(bytes)) : bytes;
}

/** The MIDI files (bytes by id) of one source; abcmidi's tunes go through abc2midi in a temporary folder. */
async function sourceFiles(source: MidiSource): Promise<{ id: string; bytes: () => Promise<Uint8Array> }[]> {
  const path = await nodePath();
  const owned = (await debianPackageFiles(source)).sort();
  if (source !== 'abcmidi') {
    return owned
      .filter((file) => /\.midi?(\.gz)?$/i.test(file))
      .map((file) => ({ id: `${source}/${path.basename(file)}`, bytes: () => readMaybeGzipped(file) }));
  }
  const abcFiles = owned.filter((file) => /\.abc(\.gz)?$/i.test(file));
  return withTempDir('abc2midi', async (dir) => {
    const out: { id: string; bytes: () => Promise<Uint8Array> }[] = [];
    const fs = await nodeFs();
    for (const file of abcFiles) {
      // abc2midi writes <stem><tune number>.mid beside its input: give it a copy in our folder
      const stem = path.basename(file).replace(/\.abc(\.gz)?$/i, '');
      const copy = path.join(dir, `${stem}.abc`);
      await fs.writeFile(copy, await readMaybeGzipped(file));
      const before = new Set(await fs.readdir(dir));
      await runTool('abc2midi', [copy, '-silent'], { debianPackage: 'abcmidi', cwd: dir });
      const made = (await fs.readdir(dir))
        .filter((name) => !before.has(name) && name.endsWith('.mid'))
        .sort();
      for (const name of made) {
        const bytes = new Uint8Array(await fs.readFile(path.join(dir, name)));
        out.push({ id: `abcmidi/${stem}.abc#${name.slice(stem.length, -4)}`, bytes: async () => bytes });
      }
    }
    return out;
  });
}

/** Every piece of the three packages, encoded (cached per drums/sustain setting). */
export async function loadMidiPieces(
  options: MidiCorpusOptions = {},
): Promise<{ pieces: MidiPiece[]; counts: MidiCorpusCounts }> {
  const drums = options.drums ?? 'drop';
  const sustain = options.sustain ?? true;
  const name = `midi-corpus.v1-drums-${drums}-sustain-${sustain}`;
  return io.cachedJSON(name, options, async () => {
    const pieces: MidiPiece[] = [];
    const counts: MidiCorpusCounts = {
      files: { 'openttd-openmsx': 0, mma: 0, abcmidi: 0 },
      skipped: [],
      pieces: 0,
      events: 0,
    };
    for (const source of MIDI_SOURCES) {
      const files = await sourceFiles(source);
      counts.files[source] = files.length;
      const encoded = await mapLimit(
        files,
        4,
        async ({ id, bytes }): Promise<MidiPiece | { id: string; reason: string }> => {
          try {
            const midi = readMidi(await bytes());
            const events = encodeMidi(midi, { drums, sustain });
            const notes = events.filter((e) => e < 128).length;
            if (notes === 0) return { id, reason: 'no notes' };
            return { id, source, events, notes, seconds: midi.duration };
          } catch (e) {
            return { id, reason: (e as Error).message };
          }
        },
      );
      for (const item of encoded) {
        if ('events' in item) pieces.push(item);
        else counts.skipped.push(item);
      }
    }
    if (pieces.length === 0) ioError('loadMidiPieces: no MIDI file could be read from the three packages');
    counts.pieces = pieces.length;
    counts.events = pieces.reduce((n, piece) => n + piece.events.length, 0);
    return { pieces, counts };
  });
}

/** The corpus split by piece (default 90/10, seed 0). */
export async function loadMidiCorpus(options: MidiCorpusOptions = {}): Promise<MidiCorpus> {
  splitTrainTest([], options, 'loadMidiCorpus'); // check the split options before any work
  const { pieces, counts } = await loadMidiPieces(options);
  const { train, test } = splitTrainTest(pieces, options, 'loadMidiCorpus');
  return { train, test, counts };
}
