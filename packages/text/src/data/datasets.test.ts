/**
 * The real npm dataset packages: each loads, has the documented shape, and splits the same way on every
 * run (the second load comes from the JSON cache and must agree with the first).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from '@multihead/core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMobyDick, loadMobyDickSections } from './moby-dick.js';
import { loadFirstNames, loadFirstNamesList } from './names.js';
import { loadSpamAssassin, splitMailHeaders } from './spam-assassin.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'multihead-datasets-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('datasets', () => {
  it('SpamAssassin: 6046 emails, headers stripped, a stable stratified 80/20 split', async () => {
    const first = await loadSpamAssassin({ cacheDir, seed: 1 });
    expect(readdirSync(cacheDir)).toContain('spam-assassin.v1.json');
    const again = await loadSpamAssassin({ cacheDir, seed: 1 }); // from the cache now
    expect(again).toEqual(first);
    expect(first.train).toHaveLength(4837);
    expect(first.test).toHaveLength(1209);
    const all = [...first.train, ...first.test];
    expect(all.filter((email) => email.label === 'spam')).toHaveLength(1896);
    expect(first.test.filter((email) => email.label === 'spam')).toHaveLength(379); // round(1896 * 0.2)
    const email = all.find((e) => e.id === 'easy-ham-1/00001')!;
    expect(email).toMatchObject({ group: 'easy-ham-1', label: 'ham', subject: 'Re: New Sequences Window' });
    expect(email.body).not.toMatch(/^Return-Path:|^Received:/m);
    expect(Object.keys(email).sort()).toEqual(['body', 'group', 'id', 'label', 'subject']);
    const other = await loadSpamAssassin({ cacheDir, seed: 2 });
    expect(other.test.map((e) => e.id)).not.toEqual(first.test.map((e) => e.id));
  });

  it('splits mail headers at the first blank line', () => {
    expect(splitMailHeaders('Subject: hi\r\nFrom: a\r\n\r\nbody\n\nmore')).toEqual([
      'Subject: hi\r\nFrom: a',
      'body\n\nmore',
    ]);
    expect(splitMailHeaders('no body')).toEqual(['no body', '']);
  });

  it('first names: female + male, lowercased, deduplicated, stable split', async () => {
    const list = await loadFirstNamesList({ cacheDir });
    expect(list).toHaveLength(8422); // 4951 + 3898, 421 in both lists (and a few repeats)
    expect(list.slice(0, 3)).toEqual(['aaren', 'aarika', 'aaron']);
    expect(list.every((name) => /^[a-z-]+$/.test(name))).toBe(true);
    const cased = await loadFirstNamesList({ cacheDir, lowercase: false });
    expect(cased).toHaveLength(8422);
    const split = await loadFirstNames({ cacheDir });
    expect(split.test).toHaveLength(1684);
    expect(split.train).toHaveLength(6738);
    expect(await loadFirstNames({ cacheDir })).toEqual(split);
  });

  it('Moby-Dick: 139 sections; contiguous and by-chapter splits', async () => {
    const sections = await loadMobyDickSections({ cacheDir });
    expect(sections).toHaveLength(139);
    expect(sections[3]).toMatchObject({ chapter: '1', title: 'Loomings.' });
    expect(sections[3]!.text.startsWith('Call me Ishmael.')).toBe(true);
    const byFraction = await loadMobyDick({ cacheDir });
    const total = byFraction.train.length + byFraction.test.length + 2;
    expect(byFraction.test.length / total).toBeCloseTo(0.1, 2);
    expect(byFraction.test.startsWith('\n')).toBe(false);
    expect(byFraction.testSections.at(-1)!.chapter).toBe('Epilogue');
    const byChapter = await loadMobyDick({ cacheDir, by: 'chapter', testFraction: 0.1, seed: 5 });
    expect(byChapter.testSections).toHaveLength(14);
    expect(byChapter.trainSections).toHaveLength(125);
    expect((await loadMobyDick({ cacheDir, by: 'chapter', testFraction: 0.1, seed: 5 })).test).toBe(
      byChapter.test,
    );
  });

  it('caches under <repo>/.cache/datasets inside this repository', async () => {
    const saved = process.env['MULTIHEAD_CACHE_DIR'];
    delete process.env['MULTIHEAD_CACHE_DIR'];
    try {
      expect(await io.cacheDir('datasets')).toMatch(/[/\\]\.cache[/\\]datasets$/);
    } finally {
      if (saved !== undefined) process.env['MULTIHEAD_CACHE_DIR'] = saved;
    }
  });
});
