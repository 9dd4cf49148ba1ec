/**
 * Molecules from Debian `rdkit-data` (Node): the first 4999 structures of the NCI open database that
 * RDKit ships as Data/NCI/first_5K.smi (`SMILES<TAB>number` lines), with openchemlib's TPSA and logP per
 * molecule as regression targets, and, beside them, the TPSA that Daylight's tools with Ertl's tpsa.c
 * gave for the same SMILES (Data/NCI/first_5k.tpsa.csv) as an independent reference. A SMILES that
 * openchemlib (or our bracket check) rejects is skipped and counted. Cached with core's `io.cachedJSON`.
 */
import { io, MultiheadError } from '@multihead/core';
import { requireFile } from '../node.js';
import { loadSmilesParser } from '../preprocess/molecule.js';
import { readTextSource, splitLines } from '../preprocess/text-source.js';

export const NCI_SMILES_FILE = '/usr/share/RDKit/Data/NCI/first_5K.smi';
export const NCI_TPSA_FILE = '/usr/share/RDKit/Data/NCI/first_5k.tpsa.csv';

export interface MoleculeRecord {
  smiles: string;
  /** The file's second column (NCI's running number). */
  id: string;
  /** openchemlib's topological polar surface area, Å². */
  tpsa: number;
  /** openchemlib's logP. */
  logP: number;
  /** Daylight/Ertl TPSA from first_5k.tpsa.csv, when the file lists this SMILES. */
  referenceTpsa?: number;
}

export interface MoleculeDataset {
  molecules: MoleculeRecord[];
  /** SMILES lines read, and those skipped as invalid (with the first few reasons). */
  total: number;
  invalid: number;
  invalidExamples: { line: number; smiles: string; reason: string }[];
}

export interface MoleculeOptions extends io.CacheOptions {
  /** A `SMILES [name]` file instead of NCI's (no reference TPSA then). */
  smilesFile?: string;
}

/** The NCI molecules with their targets (cached as `nci-molecules.v1` for the default file). */
export async function loadMolecules(options: MoleculeOptions = {}): Promise<MoleculeDataset> {
  const custom = options.smilesFile !== undefined;
  const cacheOptions = custom ? { ...options, cacheDir: false as const } : options;
  return io.cachedJSON('nci-molecules.v1', cacheOptions, () =>
    buildMolecules(options.smilesFile ?? NCI_SMILES_FILE, custom ? undefined : NCI_TPSA_FILE),
  );
}

async function buildMolecules(smilesFile: string, tpsaFile: string | undefined): Promise<MoleculeDataset> {
  await requireFile(smilesFile, 'rdkit-data', 'loadMolecules');
  const parser = await loadSmilesParser();
  const reference = new Map<string, number>();
  if (tpsaFile !== undefined) {
    await requireFile(tpsaFile, 'rdkit-data', 'loadMolecules');
    for (const line of splitLines(await readTextSource({ path: tpsaFile }, 'loadMolecules'))) {
      const comma = line.lastIndexOf(',');
      if (line.startsWith('#') || comma < 0) continue;
      reference.set(line.slice(0, comma), Number(line.slice(comma + 1)));
    }
  }
  const dataset: MoleculeDataset = { molecules: [], total: 0, invalid: 0, invalidExamples: [] };
  const lines = splitLines(await readTextSource({ path: smilesFile }, 'loadMolecules'));
  for (const [index, line] of lines.entries()) {
    const [smiles, id] = line.trim().split(/\s+/);
    if (smiles === undefined || smiles === '' || smiles.startsWith('#')) continue;
    dataset.total++;
    try {
      const { tpsa, logP } = parser.properties(smiles);
      const record: MoleculeRecord = { smiles, id: id ?? String(index + 1), tpsa, logP };
      const referenceTpsa = reference.get(smiles);
      if (referenceTpsa !== undefined) record.referenceTpsa = referenceTpsa;
      dataset.molecules.push(record);
    } catch (error) {
      if (!(error instanceof MultiheadError)) throw error;
      dataset.invalid++;
      if (dataset.invalidExamples.length < 10) {
        dataset.invalidExamples.push({ line: index + 1, smiles, reason: (error as Error).message });
      }
    }
  }
  return dataset;
}
