import { describe, expect, it } from 'vitest';
import { expectError } from '../../test/expect-error.js';
import { karateClub } from '../data/karate-club.js';
import { parseEdgeList } from '../preprocess/edge-list.js';
import { laplacianEncoding, normalizedLaplacian, symmetricEigen } from './laplacian.js';

describe('Laplacian eigenvector encodings', () => {
  it('gives the path graph its known spectrum: 1 - cos(pi k / (n - 1))', () => {
    const n = 7;
    const path = parseEdgeList(Array.from({ length: n - 1 }, (_, i) => `${i} ${i + 1}`).join('\n'));
    const { values } = symmetricEigen(normalizedLaplacian(path), n);
    const expected = Array.from({ length: n }, (_, k) => 1 - Math.cos((Math.PI * k) / (n - 1)));
    for (let k = 0; k < n; k++) expect(values[k]).toBeCloseTo(expected[k]!, 10);
  });

  it('returns eigenpairs of the karate club (L v = lambda v, orthonormal) and the Fiedler vector splits the factions', () => {
    const club = karateClub();
    const n = club.nodes.length;
    const L = normalizedLaplacian(club);
    const { values, vectors } = symmetricEigen(L, n);
    for (const k of [0, 1, 5, n - 1]) {
      let norm = 0;
      for (let i = 0; i < n; i++) {
        let lv = 0;
        for (let j = 0; j < n; j++) lv += L[i * n + j]! * vectors[j * n + k]!;
        expect(lv).toBeCloseTo(values[k]! * vectors[i * n + k]!, 9);
        norm += vectors[i * n + k]! ** 2;
      }
      expect(norm).toBeCloseTo(1, 10);
    }
    const encoding = laplacianEncoding(club, 2);
    const fiedler = club.nodes.map((_, i) => encoding[i * 2]!);
    const faction = club.nodes.map((node) => node.attributes['faction'] as number);
    const agree = fiedler.filter((v, i) => (v > 0 ? 1 : 0) === faction[i]).length;
    expect(Math.max(agree, n - agree)).toBeGreaterThanOrEqual(32); // spectral bipartition: 2 errors at most
  });

  it('refuses bad sizes', () => {
    expectError(() => symmetricEigen(new Float64Array(3), 2), /3 values for an 2 x 2 matrix/);
    expectError(() => laplacianEncoding(karateClub(), 0), /k must be a positive integer/);
    expectError(() => laplacianEncoding(karateClub(), 2, 10), /34 nodes, more than maxNodes 10/);
  });
});
