/**
 * Batched matrix product with PyTorch `torch.matmul` semantics: 1-D operands are promoted (and the
 * added dim removed), batch dims broadcast, and transposed views (`x.mT`) are read through their
 * strides without copies.
 *
 * Two WebGPU kernels: a fast "quad" kernel for the common layouts (A contiguous along K; B row-major
 * [K, N] or a `.mT` view of a row-major [N, K]; K a multiple of 4; 16-byte aligned rows) and a generic
 * strided kernel for everything else (any strides, odd K, tiny M or N, buffers larger than one binding).
 */

import { dimFields, packDims } from '../backend/uniforms.js';
import { matmulWasm } from '../backend/wasm/matmul.js';
import type { KernelSpec, WebGpuRuntime } from '../backend/webgpu.js';
import { fail } from '../errors.js';
import { broadcastShapes, broadcastStrides, fmt, size } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { copy } from './elementwise.js';
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
    ['batch', 'u32'],
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
  if (bt >= u.batch) { return; } // a 2-D grid may hold a few extra workgroups
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

/**
 * Shape of the quad kernel's work, part of its pipeline key so each adapter can get its own.
 * Each invocation owns `sr` rows x `sc` columns of C; a quad (4 invocations, a 2x2 grid) owns
 * 2sr x 2sc; a workgroup holds `qm` x `qn` quads.
 */
export interface QuadTile {
  sr: number;
  sc: number;
  qm: number;
  qn: number;
}

/**
 * Tuned on SwiftShader (Subzero, 2 cores): every storage load with a per-lane index is an emulated
 * gather there (a branch per lane and component), so what counts is how many multiply-adds each loaded
 * value feeds, against the spills that more accumulators cost. At 1024^3, 16x16 per invocation with one
 * quad per workgroup measured best: about 2.5-2.8 GFLOP per CPU-second (4.5-6 GFLOP/s on an idle
 * machine), against 2.4 for 16x32, 2.0 for 16x8, less for 8x8, 32x16 or 16 quads per workgroup, and
 * 0.7 GFLOP/s for the strided kernel. Loads without quad sharing: about 2x slower.
 */
const SOFTWARE_TILE: QuadTile = { sr: 16, sc: 16, qm: 1, qn: 1 };
/** Untuned guess for hardware GPUs: 64 invocations per workgroup, fewer registers per invocation. */
const HARDWARE_TILE: QuadTile = { sr: 4, sc: 8, qm: 4, qn: 4 };
let override: { tile?: QuadTile; subgroups?: boolean } | null = null;

/**
 * @internal Forces the quad kernel's tile shape and/or switches its subgroup sharing off (tests, kernel
 * lab); null restores the per-adapter choice.
 */
export function setMatmulKernel(opts: { tile?: QuadTile; subgroups?: boolean } | null): void {
  const tile = opts?.tile;
  if (tile) {
    const { sr, sc, qm, qn } = tile;
    const ok = [sr, sc, qm, qn].every((v) => Number.isInteger(v) && v > 0) && sr % 2 === 0 && sc % 8 === 0;
    if (!ok || 4 * qm * qn > 256)
      fail('INVALID_ARGUMENT', `setMatmulKernel: bad tile ${JSON.stringify(tile)}`);
  }
  override = opts;
}

function tileFor(gpu: WebGpuRuntime): QuadTile {
  return override?.tile ?? (gpu.adapter.isSoftware ? SOFTWARE_TILE : HARDWARE_TILE);
}

const QUAD_FIELDS = [
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['tiles_m', 'u32'],
  ['tiles_n', 'u32'],
  ['batch', 'u32'],
  ['brank', 'u32'],
  ['a_off', 'u32'],
  ['b_off', 'u32'],
  ['sam', 'u32'],
  ['sbs', 'u32'],
  ...dimFields('bshape'),
  ...dimFields('sab'),
  ...dimFields('sbb'),
] as const;

const quadSpecs = new Map<string, KernelSpec>();

/**
 * The quad kernel: vec4 loads along K, no workgroup memory, no barriers. With subgroups, the quad's
 * lanes (ly, lx) split the loads: lanes with the same ly need the same A rows, so each loads half of
 * them and `quadSwapX` hands over the other half; lanes with the same lx share B columns through
 * `quadSwapY`. Each loaded value then feeds twice the multiply-adds. Rows and columns past the edge are
 * clamped on load and skipped on store, so any M and N work. `transB`: B is contiguous along K (a `.mT`
 * view), else along N.
 */
export function quadMatmulSpec(tile: QuadTile, transB: boolean, sub: boolean): KernelSpec {
  const key = `matmul:quad:${tile.sr}x${tile.sc}:${tile.qm}x${tile.qn}:${transB ? 'bt' : 'bn'}:${sub ? 'sg' : 'nosg'}`;
  const cached = quadSpecs.get(key);
  if (cached) return cached;
  const { sr, sc, qm, qn } = tile;
  const tileM = qm * 2 * sr;
  const tileN = qn * 2 * sc;
  const G = sc / 4; // vec4 column groups per invocation
  const range = (n: number) => [...Array(n).keys()];
  const xyzw = 'xyzw';
  const pre: string[] = [];
  const loop: string[] = [];
  pre.push(`let rbase = tm * ${tileM}u + qy * ${2 * sr}u + ly * ${sr}u;`);
  pre.push(`let cbase = tn * ${tileN}u + qx * ${2 * sc}u + lx * ${sc}u;`);
  // a<r>: A[row, k..k+3] for row slot r (with subgroups slot r is row r ^ lx: own rows even, partner's
  // odd). Loaded just before the rows' multiply-adds, after B: interleaving the gathers with arithmetic
  // measured 5-15% faster than loading everything first.
  const aLoads = new Map<number, string[]>();
  if (sub) {
    for (const i of range(sr / 2))
      pre.push(`let pa${i} = ao4 + min(rbase + ${2 * i}u + lx, u.M - 1u) * sam4;`);
    for (const i of range(sr / 2))
      aLoads.set(2 * i, [`let a${2 * i} = a_ld4(pa${i} + j);`, `let a${2 * i + 1} = quadSwapX(a${2 * i});`]);
  } else {
    for (const r of range(sr)) pre.push(`let pa${r} = ao4 + min(rbase + ${r}u, u.M - 1u) * sam4;`);
    for (const r of range(sr)) aLoads.set(r, [`let a${r} = a_ld4(pa${r} + j);`]);
  }
  // b<k>_<g>: B[k, 4 columns of group slot g] (with subgroups slot g is group g ^ ly, or column s ^ ly)
  if (!transB) {
    pre.push('var pb = bo4;');
    if (sub) {
      for (const i of range(G / 2))
        pre.push(`let bc${i} = min(cbase / 4u + ${2 * i}u + ly, (u.N - 1u) / 4u);`);
      for (const i of range(G / 2))
        for (const k of range(4))
          loop.push(
            `let b${k}_${2 * i} = b_ld4(pb + ${k}u * sbs4 + bc${i});`,
            `let b${k}_${2 * i + 1} = quadSwapY(b${k}_${2 * i});`,
          );
    } else {
      for (const g of range(G)) pre.push(`let bc${g} = min(cbase / 4u + ${g}u, (u.N - 1u) / 4u);`);
      for (const g of range(G))
        for (const k of range(4)) loop.push(`let b${k}_${g} = b_ld4(pb + ${k}u * sbs4 + bc${g});`);
    }
    loop.push('pb += 4u * sbs4;');
  } else {
    // t<s> = B[k..k+3, column slot s]; the 4x4 transposes below are free (SwiftShader keeps vectors per component)
    if (sub) {
      for (const i of range(sc / 2))
        pre.push(`let pb${i} = bo4 + min(cbase + ${2 * i}u + ly, u.N - 1u) * sbs4;`);
      for (const i of range(sc / 2))
        loop.push(`let t${2 * i} = b_ld4(pb${i} + j);`, `let t${2 * i + 1} = quadSwapY(t${2 * i});`);
    } else {
      for (const s of range(sc)) pre.push(`let pb${s} = bo4 + min(cbase + ${s}u, u.N - 1u) * sbs4;`);
      for (const s of range(sc)) loop.push(`let t${s} = b_ld4(pb${s} + j);`);
    }
    for (const g of range(G))
      for (const k of range(4))
        loop.push(
          `let b${k}_${g} = vec4f(${range(4)
            .map((c) => `t${4 * g + c}.${xyzw[k]}`)
            .join(', ')});`,
        );
  }
  for (const r of range(sr)) for (const g of range(G)) pre.push(`var acc${r}_${g} = vec4f(0.0);`);
  for (const r of range(sr)) {
    loop.push(...(aLoads.get(r) ?? []));
    for (const g of range(G))
      loop.push(
        `acc${r}_${g} = fma(vec4f(a${r}.w), b3_${g}, fma(vec4f(a${r}.z), b2_${g}, fma(vec4f(a${r}.y), b1_${g}, fma(vec4f(a${r}.x), b0_${g}, acc${r}_${g}))));`,
      );
  }
  const store: string[] = [];
  const rx = sub ? 'lx' : '0u';
  const cx = sub ? 'ly' : '0u';
  for (const r of range(sr)) {
    store.push(`{ let row = rbase + (${r}u ^ ${rx}); if (row < u.M) { let o = cb + row * u.N;`);
    for (const g of range(G)) {
      store.push(
        transB
          ? `  storeGroup(o, cbase + ${4 * g}u, acc${r}_${g}, ${cx});`
          : `  storeGroup(o, cbase + 4u * (${g}u ^ ${cx}), acc${r}_${g}, 0u);`,
      );
    }
    store.push('} }');
  }
  const spec: KernelSpec = {
    key,
    uniforms: QUAD_FIELDS,
    operands: [
      { name: 'a', dtype: 'f32', vec4: true },
      { name: 'b', dtype: 'f32', vec4: true },
      { name: 'c', dtype: 'f32', write: true },
    ],
    workgroupSize: 4 * qm * qn,
    ...(sub ? { enables: ['subgroups'] } : {}),
    body: `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
// component j of v is column col + (j ^ x)
fn storeGroup(o: u32, col: u32, v: vec4f, x: u32) {
  for (var j = 0u; j < 4u; j++) { let cc = col + (j ^ x); if (cc < u.N) { c_st(o + cc, v[j]); } }
}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32${sub ? ', @builtin(subgroup_invocation_id) sg: u32' : ''}) {
  let w = workgroupIndex(wg, nwg);
  let tn = w % u.tiles_n;
  let tm = (w / u.tiles_n) % u.tiles_m;
  let bt = w / (u.tiles_n * u.tiles_m);
  if (bt >= u.batch) { return; } // a 2-D grid may hold a few extra workgroups
  var rem = bt;
  var ao = u.a_off;
  var bo = u.b_off;
  for (var d = u.brank; d > 0u; d--) {
    let dim = dimAt(u.bshape0, u.bshape1, d - 1u);
    let cdx = rem % dim;
    rem = rem / dim;
    ao += cdx * dimAt(u.sab0, u.sab1, d - 1u);
    bo += cdx * dimAt(u.sbb0, u.sbb1, d - 1u);
  }
  let ao4 = ao / 4u;
  let bo4 = bo / 4u;
  let sam4 = u.sam / 4u;
  let sbs4 = u.sbs / 4u;
  ${sub ? '// the quad is named by its lane 0, so its lanes agree on the tile whatever the subgroup layout\n  let lane = sg & 3u;\n  let q = quadBroadcast(li, 0u) / 4u;' : 'let lane = li & 3u;\n  let q = li / 4u;'}
  let lx = lane & 1u;
  let ly = lane >> 1u;
  let qx = q % ${qn}u;
  let qy = q / ${qn}u;
  ${pre.join('\n  ')}
  let K4 = u.K / 4u;
  for (var j = 0u; j < K4; j++) {
    ${loop.join('\n    ')}
  }
  let cb = bt * u.M * u.N;
  ${store.join('\n  ')}
}`,
  };
  quadSpecs.set(key, spec);
  return spec;
}

/** Smallest M and N for the quad kernel: below it most of its 32x32 tile would be wasted work. */
const QUAD_MIN_MN = 16;

/**
 * The quad kernel's plan for these operands, or null when only the strided kernel fits: A contiguous
 * along K, B contiguous along N or along K, K a multiple of 4, every row start and batch offset
 * 16-byte aligned, both operands within one binding.
 */
function quadPlan(
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

/** Promotes 1-D operands and works out shapes and strides; the caller disposes a2/b2 if new. */
function geometry(a: Tensor, b: Tensor): { a2: Tensor; b2: Tensor; g: MatmulGeometry } {
  if (a.dtype !== 'f32' || b.dtype !== 'f32') {
    fail('DTYPE_MISMATCH', `matmul: expected f32 operands, got a ${a.dtype} and b ${b.dtype}`);
  }
  if (a.rank === 0 || b.rank === 0) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: operands must be at least 1-D, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`,
    );
  }
  const K = a.shape[a.rank - 1]!;
  const K2 = b.shape[b.rank === 1 ? 0 : b.rank - 2]!;
  if (K !== K2) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: a ${fmt(a.shape)} and b ${fmt(b.shape)}: inner dims differ (${K} vs ${K2})`,
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes('matmul (batch dims)', [aBatch, bBatch], ['a', 'b']);
  if (batchShape.length > 8) fail('UNSUPPORTED', `matmul: ${batchShape.length} batch dims exceed 8`);
  const a2 = a.rank === 1 ? a.unsqueeze(0) : a;
  const b2 = b.rank === 1 ? b.unsqueeze(1) : b;
  const M = a2.shape[a2.rank - 2]!;
  const N = b2.shape[b2.rank - 1]!;
  const sab = broadcastStrides(a2.shape.slice(0, -2), a2.strides.slice(0, -2), batchShape);
  const sbb = broadcastStrides(b2.shape.slice(0, -2), b2.strides.slice(0, -2), batchShape);
  let [sam, sak] = a2.strides.slice(-2) as [number, number];
  let [sbk, sbn] = b2.strides.slice(-2) as [number, number];
  // strides of size-1 dims are never used: normalize them so layout checks see through them
  if (M === 1) sam = 0;
  if (K === 1) {
    sak = 1;
    sbk = 1;
  }
  if (N === 1) sbn = 0;
  return { a2, b2, g: { M, N, K, sam, sak, sbk, sbn, batchShape, sab, sbb } };
}

/** @internal Which kernel `matmul(a, b)` runs (tests, kernel lab): 'quad' / 'quad-bt' (B contiguous along K), 'strided' or 'cpu'. */
export function matmulPath(a: Tensor, b: Tensor): 'quad' | 'quad-bt' | 'strided' | 'cpu' {
  const gpu = a.device.gpu;
  if (!gpu) return 'cpu';
  const { a2, b2, g } = geometry(a, b);
  try {
    const plan = quadPlan(gpu, a2, b2, g);
    return plan ? (plan.transB ? 'quad-bt' : 'quad') : 'strided';
  } finally {
    if (a2 !== a) a2.dispose();
    if (b2 !== b) b2.dispose();
  }
}

/** `a @ b` (PyTorch `torch.matmul`), f32. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulWith(a, b, true);
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
  return [aOk ? a2 : copy(a2), bOk ? b2 : copy(b2)];
}

function matmulWith(a: Tensor, b: Tensor, mayPack: boolean): Tensor {
  const device = sameDevice('matmul', [a, b], ['a', 'b']);
  const { a2, b2, g } = geometry(a, b);
  const gpu0 = device.gpu;
  if (mayPack && gpu0 && a.rank >= 2 && b.rank >= 2 && !quadPlan(gpu0, a2, b2, g)) {
    const packed = packedOperands(gpu0, a2, b2, g);
    if (packed) {
      try {
        return matmulWith(packed[0], packed[1], false);
      } finally {
        if (packed[0] !== a2) packed[0].dispose();
        if (packed[1] !== b2) packed[1].dispose();
      }
    }
  }
  try {
    const { M, N, K, batchShape, sab, sbb } = g;
    const batch = size(batchShape);
    const out = device.empty([...batchShape, M, N], 'f32');
    const gpu = device.gpu;
    if (gpu && M > 0 && N > 0 && batch > 0) {
      const buffers = [a2.storage.buffer!, b2.storage.buffer!, out.storage.buffer!];
      const common = {
        M,
        N,
        K,
        batch,
        brank: batchShape.length,
        a_off: a2.offset,
        b_off: b2.offset,
        ...packDims('bshape', batchShape),
        ...packDims('sab', sab),
        ...packDims('sbb', sbb),
      };
      const plan = quadPlan(gpu, a2, b2, g);
      if (plan) {
        const tile = tileFor(gpu);
        const tilesM = Math.ceil(M / (tile.qm * 2 * tile.sr));
        const tilesN = Math.ceil(N / (tile.qn * 2 * tile.sc));
        const sub = gpu.features.has('subgroups') && override?.subgroups !== false;
        const spec = quadMatmulSpec(tile, plan.transB, sub);
        const values = { ...common, tiles_m: tilesM, tiles_n: tilesN, sam: plan.sam, sbs: plan.sbs };
        gpu.run(spec, buffers, values, tilesM * tilesN * batch);
      } else {
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
    } else if (!gpu) {
      if (!device.cpu || !matmulWasm(device.cpu, a2, b2, out, g)) matmulCpu(a2, b2, out, g);
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
