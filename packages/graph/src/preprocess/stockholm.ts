/**
 * Stockholm 1.0 multiple alignments (Pfam, Rfam, HMMER; format as documented by Sonnhammer et al. and in
 * HMMER's user guide): `# STOCKHOLM 1.0`, then blocks of `name aligned-sequence` lines separated by
 * blank lines (a sequence's pieces are concatenated across blocks), markup lines `#=GF tag text` (file),
 * `#=GS name tag text` (sequence), `#=GR name tag per-residue` and `#=GC tag per-column`, other `#` lines
 * as comments, and `//` at the end. Several alignments may follow each other in one file. Gaps are
 * `-` `.` `_` `~` (Easel's gap characters); lower-case residues mark insert columns in HMMER output.
 * At `//` every sequence, #=GR and #=GC line must have the same aligned length.
 */
import { describeType, invalidArgument, parseError, quoteLine } from '../errors.js';
import { type ReadOptions, readTextSource, splitLines, type TextSource, textOf } from './text-source.js';

export interface StockholmSequence {
  name: string;
  /** The aligned row as written (gaps and case kept). */
  aligned: string;
  /** The residues: gaps removed, upper-cased unless `case: 'keep'`. */
  sequence: string;
  /** `#=GS name tag text` lines by tag (AC, DE, OS, DR, ...), one entry per line. */
  annotations: Record<string, string[]>;
  /** `#=GR name tag ...` per-residue lines by tag (SS, PP, ...), concatenated across blocks. */
  residueAnnotations: Record<string, string>;
}

export interface StockholmAlignment {
  /** 1-based line of the `# STOCKHOLM 1.0` header. */
  line: number;
  /** Number of columns. */
  length: number;
  sequences: StockholmSequence[];
  /** `#=GF tag text` lines by tag (ID, AC, DE, CC, ...), one entry per line. */
  fileAnnotations: Record<string, string[]>;
  /** `#=GC tag ...` per-column lines by tag (SS_cons, RF, ...), concatenated across blocks. */
  columnAnnotations: Record<string, string>;
}

export interface StockholmOptions {
  /** Case of the ungapped `sequence`: 'upper' (default) or 'keep'. `aligned` always keeps it. */
  case?: 'upper' | 'keep';
}

const WHERE = 'parseStockholm';
const HEADER = /^# STOCKHOLM 1\.0\s*$/;
const ALIGNED_ROW = /^[A-Za-z._~-]+$/;
const GAPS = /[._~-]/g;

interface Builder {
  line: number;
  rows: Map<string, { chunks: string[]; lastLine: number }>;
  sequenceAnnotations: Map<string, { tags: Record<string, string[]>; line: number }>;
  residueAnnotations: Map<string, { tags: Record<string, string[]>; line: number }>;
  fileAnnotations: Record<string, string[]>;
  columnAnnotations: Record<string, string[]>;
}

/** Every alignment of a Stockholm text (string or plain bytes; for gzip or a path use `readStockholm`). */
export function parseStockholm(
  input: string | Uint8Array,
  options: StockholmOptions = {},
): StockholmAlignment[] {
  const upper = checkOptions(options);
  const lines = splitLines(textOf(input, WHERE));
  const alignments: StockholmAlignment[] = [];
  let current: Builder | null = null;
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index]!;
    const text = raw.trim();
    if (current === null) {
      if (text.length === 0) continue;
      if (!HEADER.test(text)) {
        parseError(
          WHERE,
          lineNumber,
          `expected the header '# STOCKHOLM 1.0'${alignments.length > 0 ? ' of the next alignment' : ''}, got ${quoteLine(text)}`,
        );
      }
      current = {
        line: lineNumber,
        rows: new Map(),
        sequenceAnnotations: new Map(),
        residueAnnotations: new Map(),
        fileAnnotations: {},
        columnAnnotations: {},
      };
      continue;
    }
    if (text.length === 0) continue;
    if (text === '//') {
      alignments.push(finishAlignment(current, lineNumber, upper));
      current = null;
    } else if (text.startsWith('#=')) readMarkup(current, text, lineNumber);
    else if (text.startsWith('#')) continue;
    else readRow(current, text, lineNumber);
  }
  if (current !== null) {
    parseError(
      WHERE,
      lines.length,
      `the alignment begun at line ${current.line} has no '//' end line; expected '//' before the end of the text`,
    );
  }
  if (alignments.length === 0) {
    parseError(WHERE, 1, "no alignment found; expected a '# STOCKHOLM 1.0' header");
  }
  return alignments;
}

/** Stockholm from a string, bytes (plain or gzip) or `{ path }` (Node). */
export async function readStockholm(
  source: TextSource,
  options: StockholmOptions & ReadOptions = {},
): Promise<StockholmAlignment[]> {
  checkOptions(options);
  return parseStockholm(await readTextSource(source, 'readStockholm', options), options);
}

function readRow(builder: Builder, text: string, line: number): void {
  const fields = text.split(/\s+/);
  if (fields.length !== 2) {
    parseError(
      WHERE,
      line,
      `expected a sequence line 'name aligned-sequence' (two fields), got ${fields.length} fields: ${quoteLine(text)}`,
    );
  }
  const [name, aligned] = fields as [string, string];
  if (!ALIGNED_ROW.test(aligned)) {
    const bad = [...aligned].find((char) => !/[A-Za-z._~-]/.test(char))!;
    parseError(
      WHERE,
      line,
      `unexpected character ${JSON.stringify(bad)} in the row of ${JSON.stringify(name)}; expected residue ` +
        "letters or gaps '-' '.' '_' '~'",
    );
  }
  const row = builder.rows.get(name);
  if (row === undefined) builder.rows.set(name, { chunks: [aligned], lastLine: line });
  else {
    row.chunks.push(aligned);
    row.lastLine = line;
  }
}

/** Markup line shapes: kind, then the leading fields; GF and GS end in free text, GR and GC in one string. */
const MARKUP: Record<string, { pattern: RegExp; shape: string }> = {
  '#=GF': { pattern: /^#=GF\s+(\S+)\s*(.*)$/, shape: '#=GF tag text' },
  '#=GS': { pattern: /^#=GS\s+(\S+)\s+(\S+)\s*(.*)$/, shape: '#=GS name tag text' },
  '#=GR': { pattern: /^#=GR\s+(\S+)\s+(\S+)\s+(\S+)$/, shape: '#=GR name tag annotation' },
  '#=GC': { pattern: /^#=GC\s+(\S+)\s+(\S+)$/, shape: '#=GC tag annotation' },
};

function readMarkup(builder: Builder, text: string, line: number): void {
  const kind = text.split(/\s/, 1)[0]!;
  const markup = Object.hasOwn(MARKUP, kind) ? MARKUP[kind] : undefined;
  if (markup === undefined) {
    parseError(WHERE, line, `unknown markup ${quoteLine(kind)}; expected #=GF, #=GS, #=GR or #=GC`);
  }
  const match = markup.pattern.exec(text);
  if (match === null) parseError(WHERE, line, `expected '${markup.shape}', got ${quoteLine(text)}`);
  const [, first, second, third] = match as unknown as [string, string, string, string | undefined];
  if (kind === '#=GF') pushTo(builder.fileAnnotations, first, second);
  else if (kind === '#=GC') pushTo(builder.columnAnnotations, first, second);
  else {
    const map = kind === '#=GS' ? builder.sequenceAnnotations : builder.residueAnnotations;
    let entry = map.get(first);
    if (entry === undefined) {
      entry = { tags: {}, line };
      map.set(first, entry);
    }
    pushTo(entry.tags, second, third ?? '');
  }
}

/** Sets an own property, so a key named like an Object.prototype member (`__proto__`) stays data. */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function pushTo(record: Record<string, string[]>, key: string, value: string): void {
  if (Object.hasOwn(record, key)) record[key]!.push(value);
  else setOwn(record, key, [value]);
}

function finishAlignment(builder: Builder, endLine: number, upper: boolean): StockholmAlignment {
  if (builder.rows.size === 0) {
    parseError(
      WHERE,
      endLine,
      `the alignment begun at line ${builder.line} has no sequence lines before '//'`,
    );
  }
  let length = -1;
  let firstName = '';
  const sequences: StockholmSequence[] = [];
  for (const [name, row] of builder.rows) {
    const aligned = row.chunks.join('');
    if (length < 0) {
      length = aligned.length;
      firstName = name;
    } else if (aligned.length !== length) {
      parseError(
        WHERE,
        row.lastLine,
        `sequence ${JSON.stringify(name)} has aligned length ${aligned.length}, expected ${length} (the ` +
          `length of ${JSON.stringify(firstName)}); every row of an alignment must have the same length`,
      );
    }
    const residues = aligned.replace(GAPS, '');
    sequences.push({
      name,
      aligned,
      sequence: upper ? residues.toUpperCase() : residues,
      annotations: {},
      residueAnnotations: {},
    });
  }
  const byName = new Map(sequences.map((sequence) => [sequence.name, sequence]));
  for (const [name, entry] of builder.sequenceAnnotations) {
    const sequence = byName.get(name);
    if (sequence === undefined) unknownName('#=GS', name, entry.line);
    sequence.annotations = entry.tags;
  }
  for (const [name, entry] of builder.residueAnnotations) {
    const sequence = byName.get(name);
    if (sequence === undefined) unknownName('#=GR', name, entry.line);
    for (const [tag, chunks] of Object.entries(entry.tags)) {
      const joined = chunks.join('');
      checkAnnotationLength(`#=GR ${name} ${tag}`, joined.length, length, entry.line);
      setOwn(sequence.residueAnnotations, tag, joined);
    }
  }
  const columnAnnotations: Record<string, string> = {};
  for (const [tag, chunks] of Object.entries(builder.columnAnnotations)) {
    const joined = chunks.join('');
    checkAnnotationLength(`#=GC ${tag}`, joined.length, length, endLine);
    setOwn(columnAnnotations, tag, joined);
  }
  return {
    line: builder.line,
    length,
    sequences,
    fileAnnotations: builder.fileAnnotations,
    columnAnnotations,
  };
}

function unknownName(kind: string, name: string, line: number): never {
  return parseError(
    WHERE,
    line,
    `${kind} names sequence ${JSON.stringify(name)}, which has no row in the alignment; expected the name of one of its sequences`,
  );
}

function checkAnnotationLength(label: string, actual: number, expected: number, line: number): void {
  if (actual !== expected) {
    parseError(WHERE, line, `${label} has length ${actual}, expected the alignment length ${expected}`);
  }
}

function checkOptions(options: StockholmOptions): boolean {
  if (typeof options !== 'object' || options === null) {
    invalidArgument(`${WHERE}: options must be an object, got ${describeType(options)}`);
  }
  const value = options.case ?? 'upper';
  if (value !== 'upper' && value !== 'keep') {
    invalidArgument(`${WHERE}: options.case must be 'upper' or 'keep', got ${JSON.stringify(value)}`);
  }
  return value === 'upper';
}
