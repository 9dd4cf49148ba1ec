import { describe, expect, it } from 'vitest';
import { expectRejection } from '../../test/expect-error.js';
import { loadMolecules } from './molecules.js';
import { loadProteinFamilies, loadProteinFamilySplits, looksLikeNucleotides } from './protein-families.js';

const fixture = (name: string) => new URL(`../../test/fixtures/${name}`, import.meta.url).pathname;

describe('protein family loaders (on committed samples of the Debian files)', () => {
  const files = [
    fixture('globins4.sto'),
    fixture('dna-sample.sto'),
    fixture('Caudal_act.sto.gz'),
    fixture('globins-sample.fa'),
  ];

  it('reads Stockholm and FASTA families, drops nucleotide alignments and keeps ids and annotations', async () => {
    const { families, excluded } = await loadProteinFamilies({ files });
    expect(families.map((f) => [f.id, f.aligned, f.sequences.length])).toEqual([
      ['globins4', true, 4],
      ['Caudal_act', true, 9],
      ['globins-sample', false, 6],
    ]);
    expect(excluded).toEqual([
      { id: 'dna-sample', file: fixture('dna-sample.sto'), reason: 'nucleotide sequences, not protein' },
    ]);
    expect(families[1]).toMatchObject({
      accession: 'PF04731.3',
      description: 'Caudal like protein activation region',
    });
    for (const family of families) {
      for (const s of family.sequences) expect(s.sequence).toMatch(/^[A-Z]+$/);
    }
    expect(families[0]!.sequences[0]!.aligned).toHaveLength(171);
  });

  it('splits each family and names a missing Debian file', async () => {
    const splits = await loadProteinFamilySplits({ files, threshold: 0.5, testFraction: 0.3, seed: 0 });
    expect(splits.map((s) => [s.id, s.identity, s.train.length + s.test.length])).toEqual([
      ['globins4', 'aligned', 4],
      ['Caudal_act', 'aligned', 9],
      ['globins-sample', 'global', 6],
    ]);
    await expectRejection(
      loadProteinFamilies({ files: ['/usr/share/doc/hmmer2/nothing.fa'] }),
      /cannot read \/usr\/share\/doc\/hmmer2\/nothing.fa; it comes from the Debian package hmmer2/,
    );
  });

  it('tells nucleotides from protein', () => {
    expect(looksLikeNucleotides(['ACGTTGCA', 'ACGUN'])).toBe(true);
    expect(looksLikeNucleotides(['MKVLAGCT'])).toBe(false);
    expect(looksLikeNucleotides([])).toBe(false);
  });
});

describe('loadMolecules (on a committed sample of rdkit-data)', () => {
  it('computes TPSA and logP per molecule and skips and counts invalid SMILES', async () => {
    const dataset = await loadMolecules({ smilesFile: fixture('molecules-sample.smi') });
    expect(dataset.total).toBe(22);
    expect(dataset.invalid).toBe(2);
    expect(dataset.invalidExamples.map((e) => e.line)).toEqual([21, 22]);
    expect(dataset.invalidExamples[0]!.reason).toMatch(/dangling ring closure/);
    expect(dataset.molecules).toHaveLength(20);
    expect(dataset.molecules[0]).toMatchObject({ smiles: 'CC1=CC(=O)C=CC1=O', id: '1' });
    // 2,6-dimethyl... p-quinone: two carbonyl O, 17.07 each (Ertl et al. 2000)
    expect(dataset.molecules[0]!.tpsa).toBeCloseTo(34.14, 2);
    expect(dataset.molecules.every((m) => Number.isFinite(m.logP) && m.referenceTpsa === undefined)).toBe(
      true,
    );
    await expectRejection(loadMolecules({ smilesFile: '/nonexistent.smi' }), /Debian package rdkit-data/);
  });
});
