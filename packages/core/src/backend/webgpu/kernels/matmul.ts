/**
 * matmul on WebGPU: a fast "quad" kernel (matmul-quad.ts) for the common layouts (A contiguous along K;
 * B row-major [K, N] or a `.mT` view of a row-major [N, K]; K a multiple of 4; 16-byte aligned rows)
 * and a generic strided kernel for everything else (any strides, odd K, tiny M or N, buffers larger
 * than one binding). An operand whose layout alone keeps a product off the quad kernel is copied first.
 */
import { copyOf } from '../../../kernels/map.js';
import { type MatmulGeometry, matmulGeometry } from '../../../kernels/matmul.js';
import type { KernelSignatures } from '../../../kernels/signatures.js';
import { promotedGeometry } from '../../../ops/matmul.js';
import { size } from '../../../shape.js';
import type { Tensor } from '../../../tensor.js';
import { matmulSubgroups, matmulTile, QUAD_MIN_MN } from '../heuristics.js';
import type { KernelSpec, WebGpuRuntime } from '../runtime.js';
import { packDims } from '../uniforms.js';
import { batchPrologue, matmulFields, quadMatmulSpec } from './matmul-quad.js';

/** Register-blocked: each invocation owns a 4x4 block of C; 8x8 invocations cover a 32x32 tile. */
const TILE = 32;

export const MATMUL_STRIDED: KernelSpec = {
  key: 'matmul:strided4x4',
  uniforms: matmulFields(['sam', 'sak', 'sbk', 'sbn']),
  operands: [
    { name: 'a', dtype: 'f32' },
    { name: 'b', dtype: 'f32' },
    { name: 'c', dtype: 'f32', write: true },
  ],
  workgroupSize: 64,
  body: `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
${batchPrologue('c')}  let row = tm * 32u + lid.y * 4u;
  let col = tn * 32u + lid.x * 4u;
  if (row >= u.M || col >= u.N) { return; }
  // clamp instead of branching inside the loop; out-of-range rows/cols are simply not stored
  let r1 = min(row + 1u, u.M - 1u); let r2 = min(row + 2u, u.M - 1u); let r3 = min(row + 3u, u.M - 1u);
  let c1 = min(col + 1u, u.N - 1u); let c2 = min(col + 2u, u.N - 1u); let c3 = min(col + 3u, u.N - 1u);
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  for (var k = 0u; k < u.K; k++) {
    let ak = ao + k * u.sak;
    let bk = bo + k * u.sbk;
    let bv = vec4f(b_ld(bk + col * u.sbn), b_ld(bk + c1 * u.sbn), b_ld(bk + c2 * u.sbn), b_ld(bk + c3 * u.sbn));
    acc0 = fma(vec4f(a_ld(ak + row * u.sam)), bv, acc0);
    acc1 = fma(vec4f(a_ld(ak + r1 * u.sam)), bv, acc1);
    acc2 = fma(vec4f(a_ld(ak + r2 * u.sam)), bv, acc2);
    acc3 = fma(vec4f(a_ld(ak + r3 * u.sam)), bv, acc3);
  }
  let cb = bt * u.M * u.N;
  let rows = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    if (row + i >= u.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col + j < u.N) { c_st(cb + (row + i) * u.N + col + j, rows[i][j]); }
    }
  }
}`,
};

/**
 * The quad kernel's plan for these operands, or null when only the strided kernel fits: A contiguous
 * along K, B contiguous along N or along K, K a multiple of 4, every row start and batch offset
 * 16-byte aligned, both operands within one binding.
 */
export function quadPlan(
  gpu: WebGpuRuntime,
  a: Tensor,
  b: Tensor,
  g: MatmulGeometry,
): { transB: boolean; sbs: number; sam: number } | null {
  const { M, N, K } = g;
  if (M < QUAD_MIN_MN || N < QUAD_MIN_MN || K === 0 || K % 4 !== 0) return null;
  const aligned = (v: number) => v % 4 === 0;
  if (g.sak !== 1 || !aligned(a.offset) || !aligned(g.sam) || !g.sab.every(aligned)) return null;
  if (!aligned(b.offset) || !g.sbb.every(aligned)) return null;
  if (!gpu.fitsOneBinding(a.storage.buffer!) || !gpu.fitsOneBinding(b.storage.buffer!)) return null;
  if (g.sbk === 1 && aligned(g.sbn)) return { transB: true, sbs: g.sbn, sam: g.sam };
  if (g.sbn === 1 && aligned(g.sbk)) return { transB: false, sbs: g.sbk, sam: g.sam };
  return null;
}

/**
 * An operand whose layout keeps a product off the fast kernel (A transposed, as in the weight gradient
 * xᵀ·dy, or B strided along both dims) is worth a contiguous copy: the copy reads M·K elements, the
 * product does M·N·K multiply-adds, and the strided kernel is several times slower.
 */
function packedOperands(
  gpu: WebGpuRuntime,
  a2: Tensor,
  b2: Tensor,
  g: MatmulGeometry,
): [Tensor, Tensor] | null {
  const { M, N, K } = g;
  if (M < QUAD_MIN_MN || N < QUAD_MIN_MN || K === 0 || K % 4 !== 0) return null;
  const aligned = (v: number) => v % 4 === 0;
  const aOk = g.sak === 1 && aligned(a2.offset) && aligned(g.sam) && g.sab.every(aligned);
  const bOk =
    aligned(b2.offset) &&
    g.sbb.every(aligned) &&
    ((g.sbk === 1 && aligned(g.sbn)) || (g.sbn === 1 && aligned(g.sbk)));
  if (aOk && bOk) return null;
  // a kept operand is bound whole; a copied one only needs its own elements to fit one binding
  const fits = (t: Tensor, ok: boolean) =>
    ok ? gpu.fitsOneBinding(t.storage.buffer!) : t.size * 4 <= gpu.maxBindingBytes;
  if (!fits(a2, aOk) || !fits(b2, bOk)) return null;
  return [aOk ? a2 : copyOf(a2), bOk ? b2 : copyOf(b2)];
}

/**
 * @internal Which kernel `matmul(a, b)` runs (tests, kernel lab): 'quad' / 'quad-bt' (B contiguous
 * along K), 'strided', or 'cpu' on the CPU backend.
 */
export function matmulPath(a: Tensor, b: Tensor): 'quad' | 'quad-bt' | 'strided' | 'cpu' {
  const gpu = a.device.gpu;
  if (!gpu) return 'cpu';
  const { a2, b2, g } = promotedGeometry(a, b);
  try {
    const plan = quadPlan(gpu, a2, b2, g);
    return plan ? (plan.transB ? 'quad-bt' : 'quad') : 'strided';
  } finally {
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
}

export function matmulWebGpu({ a, b, out, geometry: g }: KernelSignatures['MatMul']['args']): void {
  const gpu = out.device.gpu!;
  const packed = quadPlan(gpu, a, b, g) ? null : packedOperands(gpu, a, b, g);
  if (!packed) {
    dispatch(gpu, a, b, out, g);
    return;
  }
  const [pa, pb] = packed;
  try {
    dispatch(gpu, pa, pb, out, matmulGeometry(pa, pb, g.batchShape));
  } finally {
    if (pa !== a) pa.dispose();
    if (pb !== b) pb.dispose();
  }
}

function dispatch(gpu: WebGpuRuntime, a: Tensor, b: Tensor, out: Tensor, g: MatmulGeometry): void {
  const { M, N, K, batchShape, sab, sbb } = g;
  const batch = size(batchShape);
  if (M === 0 || N === 0 || batch === 0) return;
  const buffers = [a.storage.buffer!, b.storage.buffer!, out.storage.buffer!];
  const common = {
    M,
    N,
    K,
    batch,
    brank: batchShape.length,
    a_off: a.offset,
    b_off: b.offset,
    ...packDims('bshape', batchShape),
    ...packDims('sab', sab),
    ...packDims('sbb', sbb),
  };
  const plan = quadPlan(gpu, a, b, g);
  if (plan) {
    const tile = matmulTile(gpu);
    const tilesM = Math.ceil(M / (tile.qm * 2 * tile.sr));
    const tilesN = Math.ceil(N / (tile.qn * 2 * tile.sc));
    const spec = quadMatmulSpec(tile, plan.transB, matmulSubgroups(gpu));
    const values = { ...common, tiles_m: tilesM, tiles_n: tilesN, sam: plan.sam, sbs: plan.sbs };
    gpu.run(spec, buffers, values, tilesM * tilesN * batch);
    return;
  }
  const tilesM = Math.ceil(M / TILE);
  const tilesN = Math.ceil(N / TILE);
  const values = {
    ...common,
    tiles_m: tilesM,
    tiles_n: tilesN,
    sam: g.sam,
    sak: g.sak,
    sbk: g.sbk,
    sbn: g.sbn,
  };
  gpu.run(MATMUL_STRIDED, buffers, values, tilesM * tilesN * batch);
}
