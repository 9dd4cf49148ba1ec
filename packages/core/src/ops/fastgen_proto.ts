export interface FastConfig {
  /** rows of C per invocation */
  rm: number;
  /** vec4 column groups of C per invocation */
  cn: number;
  /** quads per workgroup along M (16 / qm along N) */
  qm: number;
  /** what a quad shares through quadBroadcast: B's k-rows ('b'), A's rows ('a'), nothing ('none') */
  share: 'a' | 'b' | 'none' | 'rows';
  /** B is a transposed view (contiguous along K) rather than row-major (contiguous along N) */
  transB: boolean;
}

export const FAST_FIELDS = [
  ['M', 'u32'], ['N', 'u32'], ['K', 'u32'], ['tiles_m', 'u32'], ['tiles_n', 'u32'], ['brank', 'u32'],
  ['a_off', 'u32'], ['b_off', 'u32'], ['sam', 'u32'], ['sbs', 'u32'],
] as const;

const range = (n: number) => [...Array(n).keys()];

/** Tile of C a workgroup covers: [rows, cols]. */
export function fastTile(c: FastConfig): [number, number] {
  const qn = 16 / c.qm;
  const quadRows = c.share === 'a' || c.share === 'rows' ? c.rm : 4 * c.rm;
  const quadCols = c.share === 'a' || c.share === 'rows' ? 16 * c.cn : 4 * c.cn;
  return [c.qm * quadRows, qn * quadCols];
}

export function fastBody(c: FastConfig): string {
  const { rm, cn, qm, share, transB } = c;
  const qn = 16 / qm;
  const [tileM, tileN] = fastTile(c);
  const R = range(rm);
  const C = range(cn);
  const K4 = range(4);
  const L: string[] = [];
  if (share === 'rows') return rowsBody(c);
  // rows owned by this lane (share 'a': rows it loads, 4 per broadcast group)
  if (share === 'a') {
    L.push(`let row0 = tm * ${tileM}u + qy * ${rm}u;`);
    L.push(`let col0 = tn * ${tileN}u + qx * ${16 * cn}u + lane * ${4 * cn}u;`);
    for (const i of range(rm / 4)) L.push(`let pa${i} = ao4 + min(row0 + ${4 * i}u + lane, u.M - 1u) * sam4;`);
  } else {
    L.push(`let row0 = tm * ${tileM}u + qy * ${4 * rm}u + lane * ${rm}u;`);
    L.push(`let col0 = tn * ${tileN}u + qx * ${4 * cn}u;`);
    for (const r of R) L.push(`let pa${r} = ao4 + min(row0 + ${r}u, u.M - 1u) * sam4;`);
  }
  // B pointers
  if (!transB) {
    // vec4 index of B[k, col] = bo4 + k * sbs4 + col / 4
    for (const cc of C) L.push(`let bc${cc} = min(col0 / 4u + ${cn * 0 + cc}u, (u.N - 1u) / 4u);`);
    if (share === 'b') L.push(`var pb = bo4 + lane * sbs4;`);
    else L.push(`var pb = bo4;`);
  } else {
    // vec4 index of B[k..k+3, n] = bo4 + n * sbs4 + k / 4
    if (share === 'b') {
      for (const cc of C) L.push(`let pb${cc} = bo4 + min(col0 + ${4 * cc}u + lane, u.N - 1u) * sbs4;`);
    } else {
      for (const cc of C) for (const j of K4) L.push(`let pb${cc}_${j} = bo4 + min(col0 + ${4 * cc + j}u, u.N - 1u) * sbs4;`);
    }
  }
  for (const r of R) for (const cc of C) L.push(`var acc${r}_${cc} = vec4f(0.0);`);
  const loop: string[] = [];
  // A values a<r> (vec4 over k..k+3 of row r)
  if (share === 'a') {
    for (const i of range(rm / 4)) loop.push(`let al${i} = a_ld4(pa${i} + j);`);
    for (const r of R) loop.push(`let a${r} = quadBroadcast(al${Math.floor(r / 4)}, ${r % 4}u);`);
  } else {
    for (const r of R) loop.push(`let a${r} = a_ld4(pa${r} + j);`);
  }
  // B values b<kk>_<c> (vec4 over 4 columns of row k+kk)
  if (!transB) {
    if (share === 'b') {
      for (const cc of C) loop.push(`let bl${cc} = b_ld4(pb + bc${cc});`);
      for (const kk of K4) for (const cc of C) loop.push(`let b${kk}_${cc} = quadBroadcast(bl${cc}, ${kk}u);`);
      loop.push('pb += sbs16;');
    } else {
      for (const kk of K4) for (const cc of C) loop.push(`let b${kk}_${cc} = b_ld4(pb + ${kk}u * sbs4 + bc${cc});`);
      loop.push('pb += sbs16;');
    }
  } else {
    const cols: string[][] = C.map(() => []);
    if (share === 'b') {
      for (const cc of C) {
        loop.push(`let bl${cc} = b_ld4(pb${cc} + j);`);
        for (const j of K4) loop.push(`let t${cc}_${j} = quadBroadcast(bl${cc}, ${j}u);`);
      }
    } else {
      for (const cc of C) for (const j of K4) loop.push(`let t${cc}_${j} = b_ld4(pb${cc}_${j} + j);`);
    }
    const comp = 'xyzw';
    for (const kk of K4)
      for (const cc of C)
        loop.push(`let b${kk}_${cc} = vec4f(${K4.map((j) => `t${cc}_${j}.${comp[kk]}`).join(', ')});`);
    void cols;
  }
  for (const r of R)
    for (const cc of C)
      loop.push(
        `acc${r}_${cc} = fma(vec4f(a${r}.w), b3_${cc}, fma(vec4f(a${r}.z), b2_${cc}, fma(vec4f(a${r}.y), b1_${cc}, fma(vec4f(a${r}.x), b0_${cc}, acc${r}_${cc}))));`,
      );
  const store: string[] = [];
  for (const r of R) {
    const row = share === 'a' ? `row0 + ${r}u` : `row0 + ${r}u`;
    store.push(`if (${row} < u.M) {`);
    store.push(`  let o = cb + (${row}) * u.N;`);
    for (const cc of C) store.push(`  storeCols(o, col0 + ${4 * cc}u, acc${r}_${cc});`);
    store.push('}');
  }
  const laneExpr = share === 'none' ? 'li & 3u' : 'sg & 3u';
  return `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
fn storeCols(o: u32, col: u32, v: vec4f) {
  if (col + 3u < u.N) { c_st(o + col, v.x); c_st(o + col + 1u, v.y); c_st(o + col + 2u, v.z); c_st(o + col + 3u, v.w); return; }
  for (var j = 0u; j < 4u; j++) { if (col + j < u.N) { c_st(o + col + j, v[j]); } }
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32${share === 'none' ? '' : ', @builtin(subgroup_invocation_id) sg: u32'}) {
  let w = workgroupIndex(wg, nwg);
  let tn = w % u.tiles_n;
  let tm = (w / u.tiles_n) % u.tiles_m;
  let bt = w / (u.tiles_n * u.tiles_m);
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
  let ao4 = ao / 4u; let bo4 = bo / 4u; let sam4 = u.sam / 4u; let sbs4 = u.sbs / 4u; let sbs16 = u.sbs;
  let lane = ${laneExpr};
  let q = li / 4u;
  let qx = q % ${qn}u;
  let qy = q / ${qn}u;
  ${L.join('\n  ')}
  let K4 = u.K / 4u;
  for (var j = 0u; j < K4; j++) {
    ${loop.join('\n    ')}
  }
  let cb = bt * u.M * u.N;
  ${store.join('\n  ')}
}`;
}

function rowsBody(c: FastConfig): string {
  const { rm, cn, qm, transB } = c;
  const qn = 16 / qm;
  const [tileM, tileN] = fastTile(c);
  const R = range(rm), C = range(cn), K4 = range(4);
  const L: string[] = [];
  L.push(`let row0 = tm * ${tileM}u + qy * ${rm}u;`);
  L.push(`let col0 = tn * ${tileN}u + qx * ${16 * cn}u + lane;`);
  for (const r of R) L.push(`let pa${r} = ao4 + min(row0 + ${r}u, u.M - 1u) * sam4;`);
  if (!transB) {
    for (const cc of C) for (const m of K4) L.push(`let bc${cc}_${m} = bo + min(col0 + ${16 * cc + 4 * m}u, u.N - 1u);`);
    L.push('var pb = 0u;');
  } else {
    for (const cc of C) for (const m of K4) L.push(`let pb${cc}_${m} = bo4 + min(col0 + ${16 * cc + 4 * m}u, u.N - 1u) * sbs4;`);
  }
  for (const r of R) for (const cc of C) L.push(`var acc${r}_${cc} = vec4f(0.0);`);
  const loop: string[] = [];
  for (const r of R) loop.push(`let a${r} = a_ld4(pa${r} + j);`);
  if (!transB) {
    for (const kk of K4) for (const cc of C)
      loop.push(`let b${kk}_${cc} = vec4f(${K4.map((m) => `b_ld(pb + ${kk}u * u.sbs + bc${cc}_${m})`).join(', ')});`);
    loop.push('pb += 4u * u.sbs;');
  } else {
    const comp = 'xyzw';
    for (const cc of C) for (const m of K4) loop.push(`let t${cc}_${m} = b_ld4(pb${cc}_${m} + j);`);
    for (const kk of K4) for (const cc of C)
      loop.push(`let b${kk}_${cc} = vec4f(${K4.map((m) => `t${cc}_${m}.${comp[kk]}`).join(', ')});`);
  }
  for (const r of R) for (const cc of C)
    loop.push(`acc${r}_${cc} = fma(vec4f(a${r}.w), b3_${cc}, fma(vec4f(a${r}.z), b2_${cc}, fma(vec4f(a${r}.y), b1_${cc}, fma(vec4f(a${r}.x), b0_${cc}, acc${r}_${cc}))));`);
  const store: string[] = [];
  for (const r of R) {
    store.push(`if (row0 + ${r}u < u.M) {`);
    store.push(`  let o = cb + (row0 + ${r}u) * u.N;`);
    for (const cc of C) for (const m of K4) store.push(`  if (col0 + ${16 * cc + 4 * m}u < u.N) { c_st(o + col0 + ${16 * cc + 4 * m}u, acc${r}_${cc}.${'xyzw'[m]}); }`);
    store.push('}');
  }
  return `
fn dimAt(a: vec4u, b: vec4u, d: u32) -> u32 { if (d < 4u) { return a[d]; } return b[d - 4u]; }
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = workgroupIndex(wg, nwg);
  let tn = w % u.tiles_n;
  let tm = (w / u.tiles_n) % u.tiles_m;
  let bt = w / (u.tiles_n * u.tiles_m);
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
  let ao4 = ao / 4u; let bo4 = bo / 4u; let sam4 = u.sam / 4u; let sbs4 = u.sbs / 4u;
  let lane = li & 3u;
  let q = li / 4u;
  let qx = q % ${qn}u;
  let qy = q / ${qn}u;
  ${L.join('\n  ')}
  let K4 = u.K / 4u;
  for (var j = 0u; j < K4; j++) {
    ${loop.join('\n    ')}
  }
  let cb = bt * u.M * u.N;
  ${store.join('\n  ')}
}`;
}
