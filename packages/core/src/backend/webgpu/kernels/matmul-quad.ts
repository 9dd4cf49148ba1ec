/**
 * The quad matmul kernel (docs/decisions.md "matmul on WebGPU"): vec4 loads along K, no workgroup
 * memory, no barriers; the four lanes of a quad form a 2x2 grid and share A rows (quadSwapX) and B
 * columns (quadSwapY), so each loaded value feeds twice the multiply-adds. The tile shape comes from
 * ../heuristics.ts and is part of the pipeline key.
 */
import type { QuadTile } from '../heuristics.js';
import type { KernelSpec } from '../shader.js';
import { dimFields, type Field } from '../uniforms.js';

/**
 * WGSL shared by both matmul kernels: the tile (tm, tn) and batch entry `bt` of workgroup `w`, and A's
 * and B's offsets `ao`, `bo` for that entry through broadcast batch strides (`c` names the coordinate).
 */
export const batchPrologue = (c: string) => `  let w = workgroupIndex(wg, nwg);
  let tn = w % u.tiles_n;
  let tm = (w / u.tiles_n) % u.tiles_m;
  let bt = w / (u.tiles_n * u.tiles_m);
  if (bt >= u.batch) { return; } // a 2-D grid may hold a few extra workgroups
  var rem = bt;
  var ao = u.a_off;
  var bo = u.b_off;
  for (var d = u.brank; d > 0u; d--) {
    let dim = dimAt(u.bshape0, u.bshape1, d - 1u);
    let ${c} = rem % dim;
    rem = rem / dim;
    ao += ${c} * dimAt(u.sab0, u.sab1, d - 1u);
    bo += ${c} * dimAt(u.sbb0, u.sbb1, d - 1u);
  }
`;

/** Uniforms of both matmul kernels around each kernel's own operand strides (`strides`). */
export function matmulFields(strides: readonly string[]): Field[] {
  return [
    ...['M', 'N', 'K', 'tiles_m', 'tiles_n', 'batch', 'brank', 'a_off', 'b_off', ...strides].map(
      (name) => [name, 'u32'] as const,
    ),
    ...dimFields('bshape'),
    ...dimFields('sab'),
    ...dimFields('sbb'),
  ];
}

const QUAD_FIELDS = matmulFields(['sam', 'sbs']);

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
${batchPrologue('cdx')}  let ao4 = ao / 4u;
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
