/**
 * FASTA (Pearson & Lipman 1988): `>id description` header lines, each followed by the sequence over any
 * number of lines. Blank lines and `;` comment lines (the original format's comments) are skipped; Windows
 * and classic Mac line endings are accepted. Residues are letters; `-` and `.` are alignment gaps (aligned
 * FASTA); one `*` may end a record (a translated stop codon) and is dropped unless `stop: 'keep'`.
 * Anything else is an error that names the line and column.
 */
import { describeType, invalidArgument, parseError, quoteLine } from '../errors.js';
import { type ReadOptions, readTextSource, splitLines, type TextSource, textOf } from './text-source.js';

export interface FastaRecord {
  /** The header's first word (after `>`). */
  id: string;
  /** The rest of the header, trimmed ('' when none). */
  description: string;
  sequence: string;
  /** 1-based line number of the header. */
  line: number;
}

export interface FastaOptions {
  /** 'upper' (default) upper-cases residues; 'keep' keeps lower case (e.g. soft-masked or insert states). */
  case?: 'upper' | 'keep';
  /** 'keep' (default) keeps `-` and `.`; 'remove' drops them (aligned FASTA to raw sequences). */
  gaps?: 'keep' | 'remove';
  /** A terminal `*`: 'remove' (default) or 'keep'. A `*` anywhere else is always an error. */
  stop?: 'remove' | 'keep';
  /**
   * A header with no residues after it (after gap removal): 'error' (default), 'keep' (a record with
   * sequence '') or 'skip'.
   */
  emptyRecords?: 'error' | 'keep' | 'skip';
}

interface CheckedOptions {
  upper: boolean;
  removeGaps: boolean;
  keepStop: boolean;
  emptyRecords: 'error' | 'keep' | 'skip';
}

const WHERE = 'parseFasta';
const RESIDUE_LINE = /^[A-Za-z.*-]*$/;
const INNER_WHITESPACE = /[ \t\v\f]+/g;

/** Records of a FASTA text (string or plain bytes; for gzip or a path use `readFasta`). */
export function parseFasta(input: string | Uint8Array, options: FastaOptions = {}): FastaRecord[] {
  const checked = checkOptions(options);
  const lines = splitLines(textOf(input, WHERE));
  const records: FastaRecord[] = [];
  let header: { id: string; description: string; line: number } | null = null;
  let chunks: string[] = [];
  let stopLine = 0; // the line of a terminal `*` seen in the current record (0: none yet)

  const finish = () => {
    if (header === null) return;
    let residues = chunks.join('');
    if (stopLine > 0) residues = residues.slice(0, -1);
    if (checked.removeGaps) residues = residues.replace(/[.-]/g, '');
    if (checked.upper) residues = residues.toUpperCase();
    if (residues.length === 0) {
      if (checked.emptyRecords === 'error') {
        parseError(
          WHERE,
          header.line,
          `record ${JSON.stringify(header.id)} has no residues; expected sequence lines after its header ` +
            "(emptyRecords: 'keep' or 'skip' accepts this)",
        );
      }
      if (checked.emptyRecords === 'skip') return;
    }
    const sequence = stopLine > 0 && checked.keepStop ? `${residues}*` : residues;
    records.push({ ...header, sequence });
  };

  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index]!;
    const text = raw.trim();
    if (text.length === 0 || text.startsWith(';')) continue;
    if (text.startsWith('>')) {
      finish();
      header = parseHeader(text, lineNumber);
      chunks = [];
      stopLine = 0;
      continue;
    }
    if (header === null) {
      parseError(WHERE, lineNumber, `expected a header line starting with '>', got ${quoteLine(text)}`);
    }
    const residues = text.replace(INNER_WHITESPACE, '');
    if (!RESIDUE_LINE.test(residues)) badCharacter(raw, lineNumber);
    if (stopLine > 0) {
      parseError(
        WHERE,
        lineNumber,
        `residues after the terminal '*' of line ${stopLine}; '*' may only end a record`,
      );
    }
    const star = residues.indexOf('*');
    if (star >= 0) {
      if (star !== residues.length - 1) {
        parseError(
          WHERE,
          lineNumber,
          `'*' at column ${raw.indexOf('*') + 1} inside the sequence; '*' (stop) may only end a record`,
        );
      }
      stopLine = lineNumber;
    }
    chunks.push(residues);
  }
  finish();
  return records;
}

/** FASTA from a string, bytes (plain or gzip) or `{ path }` (Node). */
export async function readFasta(
  source: TextSource,
  options: FastaOptions & ReadOptions = {},
): Promise<FastaRecord[]> {
  checkOptions(options);
  return parseFasta(await readTextSource(source, 'readFasta', options), options);
}

function parseHeader(text: string, line: number): { id: string; description: string; line: number } {
  const body = text.slice(1).trim();
  const match = /^(\S+)\s*(.*)$/.exec(body);
  if (match === null) {
    parseError(WHERE, line, "expected an identifier after '>', got an empty header");
  }
  return { id: match[1]!, description: match[2]!, line };
}

function badCharacter(raw: string, line: number): never {
  let column = 0;
  for (const char of raw) {
    column++;
    if (!/[A-Za-z.*\s-]/.test(char)) {
      parseError(
        WHERE,
        line,
        `unexpected character ${JSON.stringify(char)} at column ${column}; expected residue letters, ` +
          "gaps '-' '.' or a terminal '*'",
      );
    }
  }
  return parseError(WHERE, line, `unexpected characters in ${quoteLine(raw)}`);
}

function checkOptions(options: FastaOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    invalidArgument(`${WHERE}: options must be an object, got ${describeType(options)}`);
  }
  const pick = <T extends string>(name: keyof FastaOptions, allowed: readonly T[], fallback: T): T => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (!(allowed as readonly unknown[]).includes(value)) {
      invalidArgument(
        `${WHERE}: options.${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ` +
          JSON.stringify(value),
      );
    }
    return value as T;
  };
  return {
    upper: pick('case', ['upper', 'keep'], 'upper') === 'upper',
    removeGaps: pick('gaps', ['keep', 'remove'], 'keep') === 'remove',
    keepStop: pick('stop', ['remove', 'keep'], 'remove') === 'keep',
    emptyRecords: pick('emptyRecords', ['error', 'keep', 'skip'], 'error'),
  };
}
