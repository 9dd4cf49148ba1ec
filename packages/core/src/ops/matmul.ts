/**
 * Batched matrix product with PyTorch `torch.matmul` semantics: 1-D operands are promoted (and the
 * added dim removed), batch dims broadcast, and transposed views (`x.mT`) are read through their
 * strides without copies.
 */
import type { KernelSpec } from '../backend/webgpu.js';
import { dimFields, packDims } from '../backend/uniforms.js';
import { fail } from '../errors.js';
import { broadcastShapes, broadcastStrides, fmt, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sameDevice } from './map.js';

/** Register-blocked: each invocation owns a 4x4 block of C; 8x8 invocations cover a 32x32 tile. */
const TILE = 32;

const MATMUL_STRIDED: KernelSpec = {
  key: 'matmul:strided4x4',
  uniforms: [
    ['M', 'u32'],
    ['N', 'u32'],
    ['K', 'u32'],
    ['tiles_m', 'u32'],
    ['tiles_n', 'u32'],
    ['brank', 'u32'],
    ['a_off', 'u32'],
    ['b_off', 'u32'],
    ['sam', 'u32'],
    ['sak', 'u32'],
    ['sbk', 'u32'],
    ['sbn', 'u32'],
    ...dimFields('bshape'),
    ...dimFields('sab'),
    ...dimFields('sbb'),
  ],
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
  let w = workgroupIndex(wg, nwg);
  let tn = w % u.tiles_n;
  let tm = (w / u.tiles_n) % u.tiles_m;
  let bt = w / (u.tiles_n * u.tiles_m);
  var rem = bt;
  var ao = u.a_off;
  var bo = u.b_off;
  for (var d = u.brank; d > 0u; d--) {
    let dim = dimAt(u.bshape0, u.bshape1, d - 1u);
    let c = rem % dim;
    rem = rem / dim;
    ao += c * dimAt(u.sab0, u.sab1, d - 1u);
    bo += c * dimAt(u.sbb0, u.sbb1, d - 1u);
  }
  let row = tm * 32u + lid.y * 4u;
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

/** `a @ b` (PyTorch `torch.matmul`), f32. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const device = sameDevice('matmul', [a, b], ['a', 'b']);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') {
    fail('DTYPE_MISMATCH', `matmul: expected f32 operands, got a ${a.dtype} and b ${b.dtype}`);
  }
  if (a.rank === 0 || b.rank === 0) {
    fail('SHAPE_MISMATCH', `matmul: operands must be at least 1-D, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`);
  }
  const a2 = a.rank === 1 ? a.unsqueeze(0) : a;
  const b2 = b.rank === 1 ? b.unsqueeze(1) : b;
  try {
    const M = a2.shape[a2.rank - 2]!;
    const K = a2.shape[a2.rank - 1]!;
    const K2 = b2.shape[b2.rank - 2]!;
    const N = b2.shape[b2.rank - 1]!;
    if (K !== K2) {
      fail('SHAPE_MISMATCH', `matmul: a ${fmt(a.shape)} and b ${fmt(b.shape)}: inner dims differ (${K} vs ${K2})`);
    }
    const batchShape = broadcastShapes('matmul (batch dims)', [a2.shape.slice(0, -2), b2.shape.slice(0, -2)], ['a', 'b']);
    if (batchShape.length > 8) fail('UNSUPPORTED', `matmul: ${batchShape.length} batch dims exceed 8`);
    const sab = broadcastStrides(a2.shape.slice(0, -2), a2.strides.slice(0, -2), batchShape);
    const sbb = broadcastStrides(b2.shape.slice(0, -2), b2.strides.slice(0, -2), batchShape);
    const batch = size(batchShape);
    const out = device.empty([...batchShape, M, N], 'f32');
    const [sam, sak] = a2.strides.slice(-2) as [number, number];
    const [sbk, sbn] = b2.strides.slice(-2) as [number, number];
    const gpu = device.gpu;
    if (gpu && M > 0 && N > 0) {
      const tilesM = Math.ceil(M / TILE);
      const tilesN = Math.ceil(N / TILE);
      const values = {
        M, N, K, tiles_m: tilesM, tiles_n: tilesN, brank: batchShape.length,
        a_off: a2.offset, b_off: b2.offset, sam, sak, sbk, sbn,
        ...packDims('bshape', batchShape), ...packDims('sab', sab), ...packDims('sbb', sbb),
      };
      gpu.run(MATMUL_STRIDED, [a2.storage.buffer!, b2.storage.buffer!, out.storage.buffer!], values, tilesM * tilesN * batch);
    } else if (!gpu) {
      matmulCpu(a2, b2, out, { M, N, K, sam, sak, sbk, sbn, batchShape, sab, sbb });
    }
    let result = out;
    if (a.rank === 1 || b.rank === 1) {
      const shape = [...batchShape, ...(a.rank === 1 ? [] : [M]), ...(b.rank === 1 ? [] : [N])];
      result = out.reshape(shape);
      out.dispose();
    }
    return result;
  } finally {
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
}

interface MatmulGeometry {
  M: number;
  N: number;
  K: number;
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
  batchShape: number[];
  sab: number[];
  sbb: number[];
}

function matmulCpu(a: Tensor, b: Tensor, out: Tensor, g: MatmulGeometry): void {
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
