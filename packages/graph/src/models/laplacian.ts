/**
 * Laplacian eigenvector positional encodings (Dwivedi & Bresson 2020, "A Generalization of Transformer
 * Networks to Graphs", §3.1; Belkin & Niyogi 2003): the eigenvectors of the symmetric normalized
 * Laplacian L = I - D^-1/2 A D^-1/2 with the smallest non-trivial eigenvalues give each node coordinates
 * that vary slowly along edges, so communities get nearby codes (the Fiedler vector splits Zachary's club
 * along the factions). Computed by the cyclic Jacobi eigenvalue method in float64 (Golub & Van Loan,
 * §8.5), fine for the small graphs these tasks read. Each vector's sign is fixed so its largest-magnitude
 * entry is positive (eigenvectors are defined up to sign; this makes the encoding deterministic).
 */
import { invalidArgument } from '../errors.js';
import type { GraphData } from '../preprocess/graph-data.js';

export interface Eigen {
  /** Ascending. */
  values: Float64Array;
  /** [n, n] row-major; column k is the eigenvector of values[k]. */
  vectors: Float64Array;
}

/** Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, n: number, maxSweeps = 100): Eigen {
  if (matrix.length !== n * n)
    invalidArgument(`symmetricEigen: ${matrix.length} values for an ${n} x ${n} matrix`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        // the rotation that zeroes a[p][q] (Golub & Van Loan, Alg. 8.5.1: symmetric Schur)
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[x * n + x]! - a[y * n + y]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  order.forEach((source, k) => {
    let largest = 0;
    for (let i = 0; i < n; i++)
      if (Math.abs(v[i * n + source]!) > Math.abs(largest)) largest = v[i * n + source]!;
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) vectors[i * n + k] = sign * v[i * n + source]!;
  });
  return { values, vectors };
}

/** The normalized Laplacian of a graph (edges undirected and unweighted; self loops ignored). */
export function normalizedLaplacian(graph: GraphData): Float64Array {
  const n = graph.nodes.length;
  const index = new Map(graph.nodes.map((node, i) => [node.key, i]));
  const adjacency = new Float64Array(n * n);
  for (const edge of graph.edges) {
    const a = index.get(edge.source)!;
    const b = index.get(edge.target)!;
    if (a === b) continue;
    adjacency[a * n + b] = 1;
    adjacency[b * n + a] = 1;
  }
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let degree = 0;
    for (let j = 0; j < n; j++) degree += adjacency[i * n + j]!;
    scale[i] = degree > 0 ? 1 / Math.sqrt(degree) : 0;
  }
  const laplacian = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const identity = i === j && scale[i]! > 0 ? 1 : 0;
      laplacian[i * n + j] = identity - scale[i]! * adjacency[i * n + j]! * scale[j]!;
    }
  }
  return laplacian;
}

/**
 * `k` Laplacian eigenvector features per node, [n, k] row-major: the eigenvectors after the first
 * (the trivial one of eigenvalue 0), zero-padded when the graph has fewer than k + 1 nodes.
 */
export function laplacianEncoding(graph: GraphData, k: number, maxNodes = 512): Float32Array {
  const n = graph.nodes.length;
  if (!Number.isInteger(k) || k < 1)
    invalidArgument(`laplacianEncoding: k must be a positive integer, got ${k}`);
  if (n > maxNodes)
    invalidArgument(`laplacianEncoding: ${n} nodes, more than maxNodes ${maxNodes} (Jacobi is n^3)`);
  const { vectors } = symmetricEigen(normalizedLaplacian(graph), n);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k && c + 1 < n; c++) out[i * k + c] = vectors[i * n + c + 1]!;
  return out;
}
