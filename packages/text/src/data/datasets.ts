/**
 * The text datasets as prepared files, for apps that run the loaders in a browser: each entry names the
 * file (`<name>.json`) that a browser loader fetches from `setDatasetBaseUrl`'s folder, and the Node
 * loader that makes it (its value, written as JSON, is that file). An app's build step runs `load` in
 * Node for the datasets it ships and writes the results beside its assets (apps/playground does so for
 * the names).
 */
import { loadMobyDickSections, MOBY_DICK_DATASET } from './moby-dick.js';
import { firstNamesDatasetName, loadFirstNamesList } from './names.js';
import { loadSpamAssassinEmails, SPAM_ASSASSIN_DATASET } from './spam-assassin.js';

export interface PreparedDataset {
  /** The file's stem: `<name>.json`. */
  name: string;
  /** What it holds and which loaders read it. */
  description: string;
  /** Node: the file's value (built from the npm package, or read from the cache). */
  load: () => Promise<unknown>;
}

export const TEXT_DATASETS: readonly PreparedDataset[] = [
  {
    name: firstNamesDatasetName(true),
    description: 'first names, lowercased (loadFirstNames, loadFirstNamesList; text/names)',
    load: () => loadFirstNamesList({ lowercase: true }),
  },
  {
    name: firstNamesDatasetName(false),
    description: 'first names as cased in the packages (loadFirstNamesList({ lowercase: false }))',
    load: () => loadFirstNamesList({ lowercase: false }),
  },
  {
    name: MOBY_DICK_DATASET,
    description: "Moby-Dick's 139 sections (loadMobyDick, loadMobyDickSections; text/moby)",
    load: () => loadMobyDickSections(),
  },
  {
    name: SPAM_ASSASSIN_DATASET,
    description: 'SpamAssassin emails, headers stripped (loadSpamAssassin; text/spam)',
    load: () => loadSpamAssassinEmails(),
  },
];
