/**
 * Molecules from SMILES through openchemlib (its SMILES parser, ring perception and aromaticity; we
 * write no SMILES parser). A molecular graph holds the heavy atoms (explicit plain hydrogens are folded
 * into their atom's hydrogen count; isotopic hydrogens such as [2H] stay atoms) and the bonds between
 * them, in openchemlib's atom order (the SMILES order, except that it may move atoms an explicit
 * hydrogen was attached to). openchemlib's `MoleculeProperties` gives TPSA (Ertl et al. 2000, fragment contributions; S and P
 * included) and its own logP increments: the ground-truth regression targets of molecule tasks.
 * openchemlib (~1 MB) is imported on first use, so FASTA or graph users never load it.
 */
import { describeType, invalidArgument } from '../errors.js';
import type { Attributes, GraphData } from './graph-data.js';

type OpenChemLib = typeof import('openchemlib');
type Molecule = import('openchemlib').Molecule;

export interface MoleculeAtom {
  element: string;
  atomicNumber: number;
  /** Formal charge. */
  charge: number;
  aromatic: boolean;
  /** Implicit plus explicit hydrogens on the atom. */
  hydrogens: number;
  inRing: boolean;
  /** Size of the smallest ring holding the atom (openchemlib's getAtomRingSize); 0 if none. */
  ringSize: number;
}

export interface MoleculeBond {
  source: number;
  target: number;
  /** Formal order in the Kekulé form: 1, 2 or 3 (aromatic rings alternate), 0 for a dative bond. */
  order: number;
  aromatic: boolean;
  inRing: boolean;
  /** One label for featurization: 'aromatic' wins over the Kekulé order. */
  kind: 'single' | 'double' | 'triple' | 'aromatic' | 'dative';
}

export interface MoleculeRing {
  atoms: number[];
  bonds: number[];
  aromatic: boolean;
}

export interface MolecularGraph {
  smiles: string;
  atoms: MoleculeAtom[];
  bonds: MoleculeBond[];
  /** openchemlib's small rings (up to 7 members); larger rings still mark atoms and bonds `inRing`. */
  rings: MoleculeRing[];
}

export interface MolecularProperties {
  /** Topological polar surface area, Å². */
  tpsa: number;
  /** openchemlib's logP (octanol/water partition coefficient estimate). */
  logP: number;
}

export interface SmilesParser {
  graph(smiles: string): MolecularGraph;
  properties(smiles: string): MolecularProperties;
  /** Both from one parse. */
  parse(smiles: string): { graph: MolecularGraph; properties: MolecularProperties };
}

let library: Promise<OpenChemLib> | undefined;

/** A parser with openchemlib loaded, for many molecules without an await each. */
export async function loadSmilesParser(): Promise<SmilesParser> {
  library ??= import('openchemlib');
  const ocl = await library;
  const parse = (smiles: string) => {
    const molecule = moleculeFromSmiles(ocl, smiles);
    return { graph: graphOf(molecule, smiles), properties: propertiesOf(ocl, molecule) };
  };
  return {
    graph: (smiles) => graphOf(moleculeFromSmiles(ocl, smiles), smiles),
    properties: (smiles) => propertiesOf(ocl, moleculeFromSmiles(ocl, smiles)),
    parse,
  };
}

/** The molecular graph of one SMILES string. */
export async function parseSmiles(smiles: string): Promise<MolecularGraph> {
  return (await loadSmilesParser()).graph(smiles);
}

/** openchemlib's TPSA and logP of one SMILES string. */
export async function molecularProperties(smiles: string): Promise<MolecularProperties> {
  return (await loadSmilesParser()).properties(smiles);
}

/** The molecule as GraphData: nodes '0'... with the atom fields as attributes, edges with the bond fields. */
export function moleculeToGraphData(molecule: MolecularGraph): GraphData {
  return {
    directed: false,
    multi: false,
    nodes: molecule.atoms.map((atom, index) => ({ key: String(index), attributes: { ...atom } })),
    edges: molecule.bonds.map(({ source, target, ...bond }) => ({
      source: String(source),
      target: String(target),
      attributes: { ...bond } as Attributes,
    })),
    attributes: { smiles: molecule.smiles },
  };
}

function moleculeFromSmiles(ocl: OpenChemLib, smiles: string): Molecule {
  const where = 'parseSmiles';
  if (typeof smiles !== 'string')
    invalidArgument(`${where}: expected a SMILES string, got ${describeType(smiles)}`);
  if (smiles.trim().length === 0) invalidArgument(`${where}: expected a SMILES string, got an empty one`);
  if (/\s/.test(smiles)) {
    invalidArgument(
      `${where}: ${JSON.stringify(smiles.slice(0, 80))} holds whitespace; expected one SMILES without a name ` +
        '(split "SMILES name" lines first)',
    );
  }
  checkParentheses(smiles);
  let molecule: Molecule;
  try {
    // no 2-D coordinates and no stereo perception: neither changes the graph, TPSA or logP, and parsing
    // is ~7x faster without them
    molecule = ocl.Molecule.fromSmiles(smiles, { noCoordinates: true, noStereo: true });
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).replace(/^.*SmilesParser:\s*/, '');
    return invalidArgument(`${where}: invalid SMILES ${JSON.stringify(smiles.slice(0, 80))}: ${reason}`);
  }
  molecule.ensureHelperArrays(ocl.Molecule.cHelperRings);
  if (molecule.getAtoms() === 0) {
    invalidArgument(`${where}: the SMILES ${JSON.stringify(smiles.slice(0, 80))} has no heavy atoms`);
  }
  return molecule;
}

/**
 * openchemlib accepts an unclosed '(' silently ('C(C' parses as 'CC'); an unbalanced branch is almost
 * always a truncated string, so it is rejected here (brackets `[...]` hold no branches).
 */
function checkParentheses(smiles: string): void {
  let depth = 0;
  let inBracket = false;
  for (const char of smiles) {
    if (char === '[') inBracket = true;
    else if (char === ']') inBracket = false;
    else if (!inBracket && char === '(') depth++;
    else if (!inBracket && char === ')') depth--;
    if (depth < 0) break;
  }
  if (depth !== 0 || inBracket) {
    invalidArgument(
      `parseSmiles: invalid SMILES ${JSON.stringify(smiles.slice(0, 80))}: unbalanced ${inBracket ? "'['" : "'(' ')'"}`,
    );
  }
}

/** By getBondOrder's value (openchemlib documents 0-3). */
const BOND_KINDS = ['dative', 'single', 'double', 'triple'] as const;

function graphOf(molecule: Molecule, smiles: string): MolecularGraph {
  const atoms: MoleculeAtom[] = [];
  for (let atom = 0; atom < molecule.getAtoms(); atom++) {
    atoms.push({
      element: molecule.getAtomLabel(atom),
      atomicNumber: molecule.getAtomicNo(atom),
      charge: molecule.getAtomCharge(atom),
      aromatic: molecule.isAromaticAtom(atom),
      hydrogens: molecule.getAllHydrogens(atom),
      inRing: molecule.isRingAtom(atom),
      ringSize: molecule.getAtomRingSize(atom),
    });
  }
  const bonds: MoleculeBond[] = [];
  for (let bond = 0; bond < molecule.getBonds(); bond++) {
    const order = molecule.getBondOrder(bond);
    const aromatic = molecule.isAromaticBond(bond);
    bonds.push({
      source: molecule.getBondAtom(0, bond),
      target: molecule.getBondAtom(1, bond),
      order,
      aromatic,
      inRing: molecule.isRingBond(bond),
      kind: aromatic ? 'aromatic' : BOND_KINDS[order]!,
    });
  }
  const ringSet = molecule.getRingSet();
  const rings: MoleculeRing[] = [];
  for (let ring = 0; ring < ringSet.getSize(); ring++) {
    rings.push({
      atoms: [...ringSet.getRingAtoms(ring)],
      bonds: [...ringSet.getRingBonds(ring)],
      aromatic: ringSet.isAromatic(ring),
    });
  }
  return { smiles, atoms, bonds, rings };
}

function propertiesOf(ocl: OpenChemLib, molecule: Molecule): MolecularProperties {
  const properties = new ocl.MoleculeProperties(molecule);
  return { tpsa: properties.polarSurfaceArea, logP: properties.logP };
}
