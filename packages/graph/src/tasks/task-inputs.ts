/**
 * How graph tasks read their inputs (core's InputValue): `sequence` inputs are residues or FASTA (one
 * record, or an aligned FASTA whose first record is the query and whose other records are its family
 * alignment), as a string or a file (gzip too); `graph` inputs are GML or an edge list, or a SMILES
 * string, as a string or a file. Bad input is a MultiheadError naming the task and what was expected.
 */
import { type InputValue, tasks } from '@multihead/core';
import { describeType, invalidArgument } from '../errors.js';
import { parseEdgeList } from '../preprocess/edge-list.js';
import { parseFasta } from '../preprocess/fasta.js';
import { parseGml } from '../preprocess/gml.js';
import type { GraphData } from '../preprocess/graph-data.js';
import { readTextSource } from '../preprocess/text-source.js';

/** Largest input file read (16 MiB): a sequence or a small graph, never a database. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** The text of a string or file input (gunzipped when it is gzip). */
export async function inputTextOf(value: InputValue | undefined, who: string): Promise<string> {
  if (typeof value === 'string') return value;
  if (tasks.isFileInput(value)) {
    const { bytes } = await tasks.inputBytes(value, who);
    return readTextSource(bytes, who, { maxBytes: MAX_INPUT_BYTES });
  }
  return invalidArgument(`${who}: expected text (a string or a file), got ${tasks.describeInput(value)}`);
}

export interface SequenceInput {
  /** The query's name ('input' for bare residues). */
  name: string;
  /** Residues, upper case, no gaps. */
  residues: string;
  /** When the input was an alignment of two or more records: every row (the query first), gaps kept. */
  alignment?: string[];
}

const RESIDUES = /^[A-Za-z]+$/;

/** A protein sequence input: bare residues (whitespace ignored), or FASTA. */
export async function readSequenceInput(value: InputValue | undefined, who: string): Promise<SequenceInput> {
  if (value === undefined || value === null)
    invalidArgument(`${who}: expected a protein sequence (residues or FASTA), got nothing`);
  const text = (await inputTextOf(value, who)).trim();
  if (text === '')
    invalidArgument(`${who}: expected a protein sequence (residues or FASTA), got an empty text`);
  if (text.startsWith('>')) {
    const records = parseFasta(text, { case: 'keep', gaps: 'keep' });
    const first = records[0]!;
    const residues = first.sequence.replace(/[.-]/g, '').toUpperCase();
    if (residues === '') invalidArgument(`${who}: the first FASTA record (${first.id}) has no residues`);
    if (records.length < 2) return { name: first.id, residues };
    const width = first.sequence.length;
    const bad = records.find((r) => r.sequence.length !== width);
    if (bad)
      invalidArgument(
        `${who}: records of a FASTA input after the first are read as its alignment, so all must have ${width} columns; ${bad.id} (line ${bad.line}) has ${bad.sequence.length}`,
      );
    return { name: first.id, residues, alignment: records.map((r) => r.sequence) };
  }
  const residues = text.replace(/\s+/g, '');
  if (!RESIDUES.test(residues)) {
    const at = [...residues].findIndex((c) => !/[A-Za-z]/.test(c));
    invalidArgument(
      `${who}: expected residue letters (or FASTA starting with '>'); character ${JSON.stringify(residues[at])} at position ${at} is not one`,
    );
  }
  return { name: 'input', residues: residues.toUpperCase() };
}

/**
 * A graph input: GML (a line starting with `graph [`, after top-level pairs such as `Creator "..."` as in
 * Newman's karate.gml) or an edge list.
 */
export async function readGraphInput(value: InputValue | undefined, who: string): Promise<GraphData> {
  if (typeof value === 'object' && value !== null && !tasks.isFileInput(value))
    invalidArgument(
      `${who}: expected a graph as GML or an edge list (a string or a file), got ${describeType(value)}`,
    );
  const text = await inputTextOf(value, who);
  if (text.trim() === '')
    invalidArgument(`${who}: expected a graph (GML or an edge list), got an empty text`);
  return /^\s*graph\s*\[/m.test(text) ? parseGml(text) : parseEdgeList(text);
}

/** A SMILES input: the first non-empty, non-comment line's first field (a `.smi` line may name the molecule). */
export async function readSmilesInput(value: InputValue | undefined, who: string): Promise<string> {
  if (value === undefined || value === null) invalidArgument(`${who}: expected a SMILES string, got nothing`);
  const text = await inputTextOf(value, who);
  const line = text.split(/\r\n|\n|\r/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (line === undefined) invalidArgument(`${who}: expected a SMILES string, got an empty text`);
  return line.trim().split(/\s+/)[0]!;
}
