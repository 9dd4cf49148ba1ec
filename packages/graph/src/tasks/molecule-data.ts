/**
 * graph/molecules' data: NCI molecules (rdkit-data, via loadMolecules) as Graphormer inputs, their
 * element counts for the ridge baseline, and a Bemis-Murcko scaffold split.
 *
 * Atom features (each categorical): element (MOLECULE_ELEMENTS, then 'other'), attached hydrogens (0-4,
 * more counts as 4), aromatic, formal charge (-2..2, clipped), in a ring. Edge types: single, double,
 * triple, aromatic, dative (ids 1-5). TPSA is a sum of contributions of N, O, S and P atoms that depend on
 * exactly these: their hydrogens, bonds, aromaticity and charge (Ertl et al. 2000, Table 1).
 *
 * Scaffolds (Bemis & Murcko 1996): ring systems and the linkers between them, found by removing atoms
 * that are in no ring and have at most one heavy neighbour until none is left (side chains, exocyclic
 * atoms and counter-ions go; an acyclic molecule has the empty scaffold), canonicalized by openchemlib's
 * idcode. The split is DeepChem's ScaffoldSplitter rule: scaffold sets from the largest to the smallest go
 * to training until it holds (1 - testFraction) of the molecules; the rest, the rarest scaffolds, are test.
 */
import { invalidArgument } from '../errors.js';
import type { GraphFeatures } from '../models/graph-batch.js';
import { graphFeatures } from '../models/graph-batch.js';
import type { MolecularGraph } from '../preprocess/molecule.js';
import { moleculeToGraphData } from '../preprocess/molecule.js';

/** Elements with an id of their own: those seen at least 5 times in the NCI set; the rest share 'other'. */
export const MOLECULE_ELEMENTS = [
  'C',
  'N',
  'O',
  'S',
  'Cl',
  'Br',
  'F',
  'P',
  'I',
  'Cu',
  'Co',
  'Hg',
  'B',
  'As',
  'Zn',
  'Ni',
  'Si',
  'Cd',
  'Mn',
  'Cr',
  'Se',
] as const;
const ELEMENT_INDEX = new Map<string, number>(MOLECULE_ELEMENTS.map((e, i) => [e, i]));
/** Sizes of the atom features, in order: element (+ other), hydrogens, aromatic, charge, in ring. */
export const ATOM_FEATURE_SIZES = [MOLECULE_ELEMENTS.length + 1, 5, 2, 5, 2];
export const BOND_TYPES = ['single', 'double', 'triple', 'aromatic', 'dative'] as const;

const elementId = (element: string) => ELEMENT_INDEX.get(element) ?? MOLECULE_ELEMENTS.length;

/** A molecular graph as Graphormer features. */
export function moleculeFeatures(molecule: MolecularGraph, maxAtoms = 256): GraphFeatures {
  if (molecule.atoms.length > maxAtoms)
    invalidArgument(`moleculeFeatures: ${molecule.atoms.length} heavy atoms, more than maxAtoms ${maxAtoms}`);
  return graphFeatures(
    moleculeToGraphData(molecule),
    (_node, i) => {
      const atom = molecule.atoms[i]!;
      return [
        elementId(atom.element),
        Math.min(4, atom.hydrogens),
        atom.aromatic ? 1 : 0,
        Math.max(-2, Math.min(2, atom.charge)) + 2,
        atom.inRing ? 1 : 0,
      ];
    },
    (edge) => 1 + BOND_TYPES.indexOf(edge.attributes['kind'] as (typeof BOND_TYPES)[number]),
    { maxNodes: maxAtoms },
  );
}

/** Heavy atoms of each element (MOLECULE_ELEMENTS order, then all others): the ridge baseline's features. */
export function elementCounts(molecule: MolecularGraph): number[] {
  const counts = new Array<number>(MOLECULE_ELEMENTS.length + 1).fill(0);
  for (const atom of molecule.atoms) counts[elementId(atom.element)]! += 1;
  return counts;
}

/** The atoms of the Bemis-Murcko scaffold of a molecular graph (ascending indices; empty if acyclic). */
export function scaffoldAtoms(molecule: MolecularGraph): number[] {
  const n = molecule.atoms.length;
  const neighbours: Set<number>[] = Array.from({ length: n }, () => new Set());
  for (const bond of molecule.bonds) {
    if (bond.source === bond.target) continue;
    neighbours[bond.source]!.add(bond.target);
    neighbours[bond.target]!.add(bond.source);
  }
  const alive = new Array<boolean>(n).fill(true);
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (!alive[i] || molecule.atoms[i]!.inRing) continue;
      let degree = 0;
      for (const j of neighbours[i]!) if (alive[j]) degree++;
      if (degree <= 1) {
        alive[i] = false;
        changed = true;
      }
    }
  }
  return alive.flatMap((a, i) => (a ? [i] : []));
}

/** DeepChem's scaffold split of molecules by scaffold key: indices of train and test, ascending. */
export function scaffoldSplit(
  scaffolds: readonly string[],
  testFraction: number,
): { train: number[]; test: number[]; scaffolds: number } {
  if (!(testFraction > 0 && testFraction < 1))
    invalidArgument(`scaffoldSplit: testFraction must be in (0, 1), got ${testFraction}`);
  const groups = new Map<string, number[]>();
  scaffolds.forEach((key, i) => {
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  // largest first; ties by first member, so the split does not depend on Map order
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  const trainTarget = (1 - testFraction) * scaffolds.length;
  const train: number[] = [];
  const test: number[] = [];
  for (const group of ordered) (train.length + group.length <= trainTarget ? train : test).push(...group);
  const ascending = (x: number, y: number) => x - y;
  return { train: train.sort(ascending), test: test.sort(ascending), scaffolds: groups.size };
}

/**
 * Canonical scaffold keys (openchemlib idcodes; '' for acyclic molecules) of molecules given as SMILES
 * with their parsed graphs (same atom order: both come from openchemlib's parse without stereo).
 */
export async function scaffoldKeys(
  molecules: readonly { smiles: string; graph: MolecularGraph }[],
): Promise<string[]> {
  const ocl = await import('openchemlib');
  return molecules.map(({ smiles, graph }) => {
    const keep = new Set(scaffoldAtoms(graph));
    if (keep.size === 0) return '';
    const molecule = ocl.Molecule.fromSmiles(smiles, { noCoordinates: true, noStereo: true });
    molecule.ensureHelperArrays(ocl.Molecule.cHelperRings);
    const drop: number[] = [];
    for (let atom = 0; atom < molecule.getAllAtoms(); atom++) if (!keep.has(atom)) drop.push(atom);
    molecule.deleteAtoms(drop);
    return molecule.getIDCode();
  });
}
