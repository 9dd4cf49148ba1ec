/**
 * Dataset plumbing: the clip file format, seeded splits, running tools (a missing one names its Debian
 * package), the concurrency limit and temporary folders.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { MultiheadError } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { packClips, unpackClips } from '../src/data/clip-store.js';
import { readMaybeGzipped } from '../src/data/midi-corpus.js';
import { seededShuffle, splitTrainTest } from '../src/data/split.js';
import { mapLimit, runTool, withTempDir } from '../src/data/tools.js';

describe('clip store', () => {
  const store = {
    sampleRate: 16000,
    clips: [
      { meta: { word: 'one' }, samples: new Float32Array([0.5, -0.25, 1e-7]) },
      { meta: { word: 'empty' }, samples: new Float32Array(0) },
      { meta: { word: 'two' }, samples: new Float32Array([3, -3]) },
    ],
  };

  it('packs and unpacks clips with their metadata, samples exact', () => {
    const back = unpackClips<{ word: string }>(packClips(store));
    expect(back).toEqual(store);
    // an unaligned copy (a file read into the middle of a buffer) reads the same
    const bytes = packClips(store);
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(unpackClips(shifted)).toEqual(store);
  });

  it('refuses corrupt stores', () => {
    const bytes = packClips(store);
    expect(() => unpackClips(new TextEncoder().encode('RIFF....'))).toThrow(/not a clip store/);
    expect(() => unpackClips(bytes.slice(0, bytes.length - 4))).toThrow(
      /clip 2 ends at sample 5, the file holds 4/,
    );
    const badLength = bytes.slice();
    new DataView(badLength.buffer).setUint32(8, 1 << 30, true);
    expect(() => unpackClips(badLength)).toThrow(/runs past the/);
    const json = new TextEncoder().encode('{"sampleRate":16000,"clips":[{"offset":-1,"length":2}]}');
    const handMade = new Uint8Array(12 + json.length + 4);
    handMade.set(new TextEncoder().encode('MHCLIPS1'));
    new DataView(handMade.buffer).setUint32(8, json.length, true);
    handMade.set(json, 12);
    expect(() => unpackClips(handMade)).toThrow(/clip 0 has offset -1/);
  });
});

describe('seeded splits', () => {
  it('are reproducible, whole-item and sized round(n * fraction)', () => {
    const items = Array.from({ length: 25 }, (_, i) => `file${i}`);
    const a = splitTrainTest(items, { seed: 3, testFraction: 0.2 }, 'test');
    expect(a).toEqual(splitTrainTest(items, { seed: 3, testFraction: 0.2 }, 'test'));
    expect(a.test).toHaveLength(5);
    expect([...a.train, ...a.test].sort()).toEqual([...items].sort());
    expect(splitTrainTest(items, { seed: 4, testFraction: 0.2 }, 'test').test).not.toEqual(a.test);
    expect(seededShuffle(items, 1)).not.toEqual(items);
    expect(() => splitTrainTest(items, { testFraction: 1 }, 'loadX')).toThrow(
      /loadX: testFraction must be a number in \[0, 1\)/,
    );
  });
});

describe('tools', () => {
  it('a missing tool names its Debian package and tools/data', async () => {
    const run = runTool('multihead-no-such-tool', ['x'], { debianPackage: 'no-such-package' });
    await expect(run).rejects.toThrow(MultiheadError);
    await expect(runTool('multihead-no-such-tool', [], { debianPackage: 'espeak-ng' })).rejects.toThrow(
      /multihead-no-such-tool is missing: install the Debian package espeak-ng \(tools\/data will install it/,
    );
  });

  it('returns stdout as bytes; a failing tool reports its stderr', async () => {
    const out = await runTool(process.execPath, ['-e', 'process.stdout.write("abc")'], {
      debianPackage: 'nodejs',
    });
    expect(new TextDecoder().decode(out)).toBe('abc');
    await expect(
      runTool(process.execPath, ['-e', 'console.error("bad voice"); process.exit(3)'], {
        debianPackage: 'nodejs',
      }),
    ).rejects.toThrow(/failed .*bad voice/);
  });

  it('mapLimit keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (x) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, x));
      running--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
    await expect(mapLimit([1], 0, async (x) => x)).rejects.toThrow(/concurrency must be a positive integer/);
  });

  it('withTempDir removes its folder, also after an error', async () => {
    let kept = '';
    await expect(
      withTempDir('test', async (dir) => {
        kept = dir;
        expect(existsSync(dir)).toBe(true);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(kept)).toBe(false);
  });

  it('reads gzipped corpus files (.mid.gz) and plain ones alike', async () => {
    const tune = new Uint8Array(readFileSync(new URL('./fixtures/midi/tune.mid', import.meta.url)));
    await withTempDir('gz', async (dir) => {
      writeFileSync(join(dir, 'tune.mid.gz'), gzipSync(tune));
      writeFileSync(join(dir, 'tune.mid'), tune);
      expect(await readMaybeGzipped(join(dir, 'tune.mid.gz'))).toEqual(tune);
      expect(await readMaybeGzipped(join(dir, 'tune.mid'))).toEqual(tune);
    });
  });
});
