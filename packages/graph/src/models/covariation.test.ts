import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { contactMap } from './contact-map.js';
import { columnCovariation, residueColumns, writeResidueCovariation } from './covariation.js';

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/covariation.json', import.meta.url), 'utf8'),
) as { rows: string[]; standardized: number[][] };

describe('columnCovariation (MI with pseudo-counts, APC, standardized)', () => {
  it('matches the numpy oracle that sums over all 21 x 21 state pairs (scripts/make-covariation-fixture.py)', () => {
    const { columns, values } = columnCovariation(fixture.rows);
    expect(columns).toBe(9);
    for (let i = 0; i < columns; i++)
      for (let j = 0; j < columns; j++)
        expect(values[i * columns + j]).toBeCloseTo(fixture.standardized[i]![j]!, 5);
    // columns 0 and 1 (A/G with C/W) co-vary perfectly: the largest pair
    let best = [0, 0, Number.NEGATIVE_INFINITY];
    for (let i = 0; i < columns; i++)
      for (let j = i + 1; j < columns; j++)
        if (values[i * columns + j]! > best[2]!) best = [i, j, values[i * columns + j]!];
    expect(best.slice(0, 2)).toEqual([0, 1]);
  });

  it('maps residues onto their columns and writes a window of pairs', () => {
    expect(Array.from(residueColumns('A.C-De'))).toEqual([0, 2, 4, 5]);
    const cov = columnCovariation(fixture.rows);
    const columns = residueColumns(fixture.rows[3]!); // GWYDQRLvk: no gaps
    const out = new Float32Array(4 * 4);
    writeResidueCovariation(cov, columns, 0, 2, out, 4, 1); // residues 0, 1 at offset 1 of a 4 x 4 block
    expect(out[1 * 4 + 2]).toBeCloseTo(cov.values[1]!, 6);
    expect(out[0]).toBe(0);
  });

  it('refuses fewer than two rows and rows of different lengths', () => {
    expectError(() => columnCovariation(['ACD']), /at least 2 aligned rows/);
    expectError(() => columnCovariation(['ACD', 'AC']), /row 1 has 2 columns; expected 3/);
  });
});

describe('contactMap (symmetrized attention, APC)', () => {
  it('averages heads, symmetrizes, subtracts the average product and cuts the special positions', () => {
    // one head over 4 positions; residues are positions 1 and 2 plus 3: R = 3
    const n = 4;
    const w = new Float32Array(n * n);
    const set = (i: number, j: number, v: number) => {
      w[i * n + j] = v;
    };
    set(1, 2, 0.6);
    set(2, 1, 0.2);
    set(1, 3, 0.1);
    set(3, 2, 0.3);
    const map = contactMap([{ heads: 1, weights: w }], n, 1, 4);
    // by hand: sym = [[0, .4, .05], [.4, 0, .15], [.05, .15, 0]]; row sums .45 .55 .2; total 1.2
    const sym = [
      [0, 0.4, 0.05],
      [0.4, 0, 0.15],
      [0.05, 0.15, 0],
    ];
    const rows = [0.45, 0.55, 0.2];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        expect(map[i * 3 + j]).toBeCloseTo(i === j ? 0 : sym[i]![j]! - (rows[i]! * rows[j]!) / 1.2, 6);
  });

  it('refuses empty or misshaped maps', () => {
    expectError(() => contactMap([], 3, 0, 3), /no attention maps/);
    expectError(
      () => contactMap([{ heads: 2, weights: new Float32Array(9) }], 3, 0, 3),
      /expected \[2, 3, 3\]/,
    );
    expectError(() => contactMap([{ heads: 1, weights: new Float32Array(9) }], 3, 2, 2), /at least one/);
  });
});
