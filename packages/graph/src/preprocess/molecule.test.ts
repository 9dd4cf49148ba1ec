import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { nodeDegrees } from './graph-features.js';
import { loadSmilesParser, molecularProperties, moleculeToGraphData, parseSmiles } from './molecule.js';

const parser = await loadSmilesParser();

describe('parseSmiles', () => {
  it('phenol: aromatic ring atoms and bonds, hydrogens, one aromatic six-ring', async () => {
    const phenol = await parseSmiles('c1ccccc1O');
    expect(phenol.atoms.map((a) => a.element).join('')).toBe('CCCCCCO');
    expect(phenol.atoms.map((a) => a.hydrogens)).toEqual([1, 1, 1, 1, 1, 0, 1]);
    expect(phenol.atoms.map((a) => a.aromatic)).toEqual([true, true, true, true, true, true, false]);
    expect(phenol.atoms.map((a) => a.ringSize)).toEqual([6, 6, 6, 6, 6, 6, 0]);
    expect(phenol.bonds.filter((b) => b.kind === 'aromatic')).toHaveLength(6);
    // the Kekulé orders of the ring alternate
    expect(
      phenol.bonds
        .filter((b) => b.aromatic)
        .map((b) => b.order)
        .sort(),
    ).toEqual([1, 1, 1, 2, 2, 2]);
    expect(phenol.bonds.find((b) => !b.aromatic)).toMatchObject({ order: 1, kind: 'single', inRing: false });
    expect(phenol.rings).toEqual([{ atoms: expect.any(Array), bonds: expect.any(Array), aromatic: true }]);
    expect(phenol.rings[0]!.atoms.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('charges, hydrogens of charged atoms, triple bonds, small and large rings', () => {
    const acetate = parser.graph('CC(=O)[O-]');
    expect(acetate.atoms.map((a) => [a.element, a.charge, a.hydrogens])).toEqual([
      ['C', 0, 3],
      ['C', 0, 0],
      ['O', 0, 0],
      ['O', -1, 0],
    ]);
    expect(acetate.bonds.map((b) => b.kind)).toEqual(['single', 'double', 'single']);
    expect(parser.graph('[NH4+]').atoms).toEqual([
      { element: 'N', atomicNumber: 7, charge: 1, aromatic: false, hydrogens: 4, inRing: false, ringSize: 0 },
    ]);
    expect(parser.graph('C#N').bonds[0]).toMatchObject({ order: 3, kind: 'triple' });
    expect(parser.graph('C1CC1N').atoms.map((a) => a.ringSize)).toEqual([3, 3, 3, 0]);
    // a 12-ring: ring atoms, but beyond openchemlib's small-ring set
    const macrocycle = parser.graph('C1CCCCCCCCCCC1');
    expect(macrocycle.atoms.every((a) => a.inRing && a.ringSize === 12)).toBe(true);
    expect(macrocycle.rings).toEqual([]);
    // explicit plain hydrogens are folded into the hydrogen count
    expect(
      parser
        .graph('[H]OC')
        .atoms.map((a) => [a.element, a.hydrogens])
        .sort(),
    ).toEqual([
      ['C', 3],
      ['O', 1],
    ]);
  });

  it('becomes GraphData whose degrees are the heavy-atom valences', () => {
    const graph = moleculeToGraphData(parser.graph('CC(C)(C)O'));
    expect(graph.nodes[1]!.attributes).toMatchObject({ element: 'C', hydrogens: 0 });
    expect(graph.edges[0]!.attributes).toMatchObject({ kind: 'single', order: 1 });
    expect([...nodeDegrees(graph).degree]).toEqual([1, 4, 1, 1, 1]);
  });

  it('rejects invalid SMILES with a clear error', async () => {
    expectError(() => parser.graph('C1CC'), /^parseSmiles: invalid SMILES "C1CC": dangling ring closure/);
    expectError(() => parser.graph('xyz'), /invalid SMILES "xyz": unknown element label/);
    expectError(() => parser.graph('C(C'), /unbalanced '\(' '\)'/);
    expectError(() => parser.graph('C)C'), /unbalanced '\(' '\)'/);
    expectError(() => parser.graph('[NH4+'), /unbalanced '\['/);
    expectError(() => parser.graph(''), /got an empty one/);
    expectError(() => parser.graph('CCO ethanol'), /holds whitespace/);
    expectError(() => parser.graph(42 as unknown as string), /expected a SMILES string, got number/);
    await expect(parseSmiles('C1CC')).rejects.toThrow(/dangling ring closure/);
  });
});

describe('molecular properties', () => {
  it("TPSA equals Ertl's tpsa.c (Daylight) on the NCI sample where both type atoms alike", async () => {
    // rdkit-data's NCI/first_5k.tpsa.csv, first 39 molecules. openchemlib also counts S and P (Ertl's
    // paper lists them; his tpsa.c leaves them out by default) and types nitro N+ differently, so those
    // molecules are left out. On all 5k molecules the rest agree within 0.01 for 3503 of 3663 (95.6%);
    // here 28 of 29 (one quinoid xanthene oxygen differs by 3.91).
    const text = await readFile(new URL('../../test/fixtures/nci-first40.tpsa.csv', import.meta.url), 'utf8');
    const rows = text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map(
        (line) =>
          [line.slice(0, line.lastIndexOf(',')), Number(line.slice(line.lastIndexOf(',') + 1))] as const,
      );
    const comparable = rows.filter(
      ([smiles]) => !/S(?!i|n|e|b|r|c|m)|P(?!t|d|b)|\[N\+\]\(\[O-\]\)=O/.test(smiles),
    );
    expect(comparable).toHaveLength(29);
    const equal = comparable.filter(
      ([smiles, reference]) => Math.abs(parser.properties(smiles).tpsa - reference) < 0.01,
    );
    expect(equal.length).toBeGreaterThanOrEqual(28);
  });

  it('logP ranks molecules as measured values do (Hansch, Leo & Hoekman 1995)', async () => {
    const measured: [string, number][] = [
      ['CCCCCCCC', 5.18], // octane
      ['CCCCCC', 3.9], // hexane
      ['c1ccc2ccccc2c1', 3.3], // naphthalene
      ['ClC(Cl)(Cl)Cl', 2.83], // tetrachloromethane
      ['c1ccccc1', 2.13], // benzene
      ['c1ccccc1O', 1.46], // phenol
      ['CC(=O)Oc1ccccc1C(=O)O', 1.19], // aspirin
      ['CN1C=NC2=C1C(=O)N(C(=O)N2C)C', -0.07], // caffeine
      ['CC(=O)O', -0.17], // acetic acid
      ['CCO', -0.31], // ethanol
      ['OCC(O)CO', -1.76], // glycerol
    ];
    const ours = await Promise.all(
      measured.map(async ([smiles]) => (await molecularProperties(smiles)).logP),
    );
    // openchemlib's increments run low on alkanes (octane 3.70), so the check is the ranking: Spearman's rho
    const rank = (values: number[]) => {
      const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
      const ranks = new Array<number>(values.length);
      for (const [r, i] of order.entries()) ranks[i] = r;
      return ranks;
    };
    const a = rank(ours);
    const b = rank(measured.map(([, logP]) => logP));
    const n = a.length;
    const rho = 1 - (6 * a.reduce((sum, r, i) => sum + (r - b[i]!) ** 2, 0)) / (n * (n * n - 1));
    expect(rho).toBeGreaterThan(0.9);
    const meanError = ours.reduce((sum, value, i) => sum + Math.abs(value - measured[i]![1]), 0) / n;
    expect(meanError).toBeLessThan(0.8);
  });

  it('parse gives the graph and the properties of one parse', () => {
    const { graph, properties } = parser.parse('c1ccncc1');
    expect(graph.atoms).toHaveLength(6);
    expect(properties).toEqual(parser.properties('c1ccncc1'));
    // pyridine's TPSA is one aromatic N: 12.89 (Ertl et al. 2000, Table 1)
    expect(properties.tpsa).toBeCloseTo(12.89, 2);
  });
});
