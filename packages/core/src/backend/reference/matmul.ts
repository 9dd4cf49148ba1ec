/** C = A·B on the reference backend, in float64 per row; transposed B (x·Wᵀ) as contiguous dot products. */
import type { KernelSignatures } from '../../kernels/signatures.js';
import { size } from '../../shape.js';

type MatMulArgs = KernelSignatures['MatMul']['args'];

export function matmulReference({ a, b, out, geometry: g }: MatMulArgs): void {
  const A = a.storage.array!;
  const B = b.storage.array!;
  const C = out.storage.array!;
  const batch = size(g.batchShape);
  const row = new Float64Array(g.N);
  for (let bt = 0; bt < batch; bt++) {
    let rem = bt;
    let ao = a.offset;
    let bo = b.offset;
    for (let d = g.batchShape.length - 1; d >= 0; d--) {
      const dim = g.batchShape[d]!;
      const c = rem % dim;
      rem = Math.floor(rem / dim);
      ao += c * g.sab[d]!;
      bo += c * g.sbb[d]!;
    }
    if (g.sbn !== 1 && g.sbk === 1) {
      // B transposed (x·Wᵀ): dot products along k, contiguous in both operands when A is row-major
      for (let i = 0; i < g.M; i++) {
        const ai = ao + i * g.sam;
        for (let j = 0; j < g.N; j++) {
          const bj = bo + j * g.sbn;
          let acc = 0;
          for (let k = 0; k < g.K; k++) acc += A[ai + k * g.sak]! * B[bj + k]!;
          C[(bt * g.M + i) * g.N + j] = acc;
        }
      }
      continue;
    }
    for (let i = 0; i < g.M; i++) {
      row.fill(0);
      for (let k = 0; k < g.K; k++) {
        const av = A[ao + i * g.sam + k * g.sak]!;
        const bk = bo + k * g.sbk;
        for (let j = 0; j < g.N; j++) row[j]! += av * B[bk + j * g.sbn]!;
      }
      C.set(row, (bt * g.M + i) * g.N);
    }
  }
}
